/*
 * pki: the certificates `ward-server init` makes — a self-signed CA (ten
 * years) and a server certificate it signs (two years), both ECDSA P-256,
 * the server's carrying the names agents will connect to (DNS names and
 * IP addresses).  Agents pin the CA.
 */
#ifndef WARD_SERVER_PKI_H
#define WARD_SERVER_PKI_H

#include "util/err.h"

/* Writes DIR/ca.crt, DIR/ca.key, DIR/server.crt, DIR/server.key (keys
 * 0600); names: "localhost", "10.0.0.5", "ward.example.org", ... */
int pki_init(const char *dir, const char *const *names, unsigned nnames, struct ward_diag *d);

#endif
