/*
 * cli: what the ward subcommands share: loading rules from the command
 * line, and the exit statuses (clamscan's convention).
 */
#ifndef WARD_CLI_CLI_H
#define WARD_CLI_CLI_H

#include <stddef.h>

#include "rules/ruleset.h"
#include "scan/hashsig.h"
#include "scan/matcher.h"

struct sign_key;

#define EXIT_CLEAN 0  /* nothing found */
#define EXIT_FOUND 1  /* at least one match */
#define EXIT_ERROR 2  /* bad arguments, bad rules, nothing could be scanned */
#define EXIT_INTR 130 /* stopped by SIGINT/SIGTERM */

/* Where rules come from, gathered from repeated options. */
struct rule_opts {
	const char **rules;
	size_t nrules;
	const char **hashes;
	size_t nhashes;
	const char **defines;
	size_t ndefines;
	const char *compiled;
	int skip_unsupported; /* leave out rules ward cannot compile, naming each */
	const char **clamdbs; /* ClamAV databases (files or directories) */
	size_t nclamdbs;
	int clamav_report;  /* name every ClamAV signature left out */
	int allow_unsigned; /* take a .cvd whose signature does not verify */
};

/* What was loaded; free with loaded_free. */
struct loaded {
	struct ruleset *rs;
	struct hashsig_set *hs;
	struct matcher *m;
	size_t nskipped;      /* rules left out by skip_unsupported */
	size_t nclam_skipped; /* ClamAV signatures left out */
};

/* Appends v to a growable list; exits with EXIT_ERROR when out of memory. */
void cli_push(const char ***list, size_t *n, const char *v);

/*
 * Compiles (or loads) the rules; on failure prints FILE:LINE:COL: message
 * on stderr and returns EXIT_ERROR.
 */
int cli_load(const struct rule_opts *o, struct loaded *l);
void loaded_free(struct loaded *l);

/* Prints "ward: FILE:LINE:COL: message" for d. */
void cli_diag(const struct ward_diag *d);

/* Prints "ward: skipped rule NAME (FILE:LINE): why" (or the import) on stderr. */
struct rules_skipped;
void cli_print_skipped(const struct rules_skipped *s);

/* Loads a PEM key file (private or public); prints why and returns NULL
 * on failure. */
struct sign_key *cli_load_key(const char *path, int private);

int cmd_scan(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_content(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_quarantine(int argc, char **argv);
int cmd_fim(int argc, char **argv);
int cmd_fleet(int argc, char **argv);

/*
 * Sends one request to the agent at RUN_DIR/control.sock and returns its
 * answer, or NULL after printing why (quiet: say nothing when no agent is
 * running there).
 */
struct json_t;
struct json_t *cli_agent_ask(const char *run_dir, struct json_t *req, int quiet);
int cmd_rules(int argc, char **argv);

/*
 * The exception `except add` asks for (an object for the agent's or the
 * server's one parser): exactly one of sha (--sha256), rule (--rule, with
 * glob limiting it) or glob (--path); NULL after saying so otherwise.
 */
struct json_t *cli_exception_spec(const char *sha, const char *rule, const char *glob,
				  const char *reason);

#endif
