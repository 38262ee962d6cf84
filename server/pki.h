/*
 * pki: the certificates `ward-server init` makes — a self-signed CA (ten
 * years) and a server certificate it signs (two years), both ECDSA P-256,
 * the server's carrying the names agents will connect to (DNS names and
 * IP addresses).  Agents pin the CA.
 */
#ifndef WARD_SERVER_PKI_H
#define WARD_SERVER_PKI_H

#include "util/err.h"

/* Creates ca.crt, ca.key, server.crt and server.key in the directory dfd
 * (O_RDONLY | O_DIRECTORY; borrowed): new files, the keys 0600; names:
 * "localhost", "10.0.0.5", "ward.example.org", ...  Returns 0,
 * WARD_EDUPLICATE if one of them exists (it is left as it was), or
 * WARD_EIO, with d naming the file. */
int pki_init(int dfd, const char *const *names, unsigned nnames, struct ward_diag *d);

#endif
