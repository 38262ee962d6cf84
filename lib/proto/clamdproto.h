/*
 * clamdproto: clamd's socket protocol, as its clients speak it (pure: no
 * I/O, no state beyond the caller's buffer).  wardd's clamd listener
 * (agent/clamd.c) reads a hostile client's bytes through these functions
 * only.
 *
 *   command   'z' NAME [' ' ARG] '\0'      answers end with '\0'
 *             'n' NAME [' ' ARG] '\n'      answers end with '\n'
 *             NAME [' ' ARG] '\n'          the old form: the first command
 *                                          of a connection only, and only
 *                                          the commands clamd still takes
 *                                          so; answers end with '\n'
 *   INSTREAM  then chunks: a 4-byte big-endian length and that many
 *             bytes; a length of 0 ends the stream
 *   answer    [ID ": "] [PATH ": "] [MSG " "] STATUS TERM, ID inside an
 *             IDSESSION (the request number, from 1)
 *
 * A command is at most WARD_MAX_CLAMD_COMMAND bytes with its prefix and
 * terminator; the bytes of the file scanned never pass through here.
 */
#ifndef WARD_PROTO_CLAMDPROTO_H
#define WARD_PROTO_CLAMDPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/limits.h"

enum clamdproto_cmd {
	CLAMDPROTO_UNKNOWN = 0,
	CLAMDPROTO_SCAN,
	CLAMDPROTO_QUIT, /* clamd's old name of SHUTDOWN */
	CLAMDPROTO_RELOAD,
	CLAMDPROTO_PING,
	CLAMDPROTO_CONTSCAN,
	CLAMDPROTO_VERSIONCOMMANDS,
	CLAMDPROTO_VERSION,
	CLAMDPROTO_END,
	CLAMDPROTO_SHUTDOWN,
	CLAMDPROTO_MULTISCAN,
	CLAMDPROTO_FILDES,
	CLAMDPROTO_STATS,
	CLAMDPROTO_IDSESSION,
	CLAMDPROTO_INSTREAM,
	CLAMDPROTO_DETSTATSCLEAR,
	CLAMDPROTO_DETSTATS,
	CLAMDPROTO_ALLMATCHSCAN,
};

/* One command as read. */
struct clamdproto_req {
	enum clamdproto_cmd cmd;
	char term;	    /* '\0' or '\n': what ends each answer */
	int oldstyle;	    /* sent without a 'z' or 'n' prefix */
	const uint8_t *arg; /* borrowed from the buffer; NULL without one */
	size_t arglen;	    /* bytes of arg (no NUL among them) */
};

/*
 * Reads the next command from b.  at_end: b holds all the client sent so
 * far and an old-form command may end with it, as clamd takes one packet
 * as one command.  req->oldstyle says the old form was read: the caller
 * takes it only as a connection's first command.
 *
 * Returns 0 with *req set and the cursor past the command (its
 * terminator included; an unknown or malformed command is
 * CLAMDPROTO_UNKNOWN, answered and the connection closed); 1 when the
 * command is not complete yet (the cursor does not move); WARD_ELIMIT
 * when WARD_MAX_CLAMD_COMMAND bytes came without a terminator.
 */
int clamdproto_next(struct rbuf *b, int at_end, struct clamdproto_req *req);

/*
 * Reads an INSTREAM chunk's length: 0 with *len set (0: the stream
 * ends), 1 when fewer than 4 bytes remain (the cursor does not move).
 */
int clamdproto_chunk(struct rbuf *b, uint32_t *len);

/* The command's name as clamd spells it ("" for CLAMDPROTO_UNKNOWN). */
const char *clamdproto_name(enum clamdproto_cmd c);

/* The names VERSIONCOMMANDS lists after " COMMANDS:", in clamd's order,
 * each preceded by a space. */
const char *clamdproto_command_list(void);

/*
 * Appends one answer to w: "ID: " when id > 0, "PATH: " when path is not
 * NULL (pathlen bytes, echoed as the client sent them), "MSG " when msg is
 * not NULL, then status and term.  clamd's three forms are
 *   path, NULL, "OK"                    "PATH: OK"
 *   path, rule name, "FOUND"            "PATH: RULE FOUND"
 *   path or NULL, message, "ERROR"      "PATH: MSG ERROR"
 */
void clamdproto_answer(struct wbuf *w, unsigned id, const uint8_t *path, size_t pathlen,
		       const char *msg, const char *status, char term);

#endif
