/*
 * ward: the command-line front end.  It parses arguments and hands the work
 * to libward; every subcommand lives in its own cmd_*.c file.  The options
 * a command's --help prints are also in man/ward.1.scd and in the bash and
 * zsh completion (completions/); tests/e2e/test_docs_cli.py checks.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: ward COMMAND [OPTIONS] [ARGS]\n"
		   "\n"
		   "Commands:\n"
		   "  scan        scan files and directories with YARA rules and hash signatures\n"
		   "  rules       compile rule files into a compiled rule set\n"
		   "  content     build, sign, verify and inspect content bundles\n"
		   "  key         generate content signing keys\n"
		   "  agent       talk to the running agent (status, apply, rollback, scan)\n"
		   "  quarantine  list, restore or delete quarantined files\n"
		   "  fim         file integrity: baseline and check\n"
		   "  fleet       the fleet server's admin API (agents, tokens, events)\n"
		   "  version     print the version\n"
		   "\n"
		   "Run 'ward COMMAND --help' for the options of a command.\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_ERROR;
	}
	if (strcmp(argv[1], "scan") == 0)
		return cmd_scan(argc - 1, argv + 1);
	if (strcmp(argv[1], "rules") == 0)
		return cmd_rules(argc - 1, argv + 1);
	if (strcmp(argv[1], "content") == 0)
		return cmd_content(argc - 1, argv + 1);
	if (strcmp(argv[1], "key") == 0)
		return cmd_key(argc - 1, argv + 1);
	if (strcmp(argv[1], "agent") == 0)
		return cmd_agent(argc - 1, argv + 1);
	if (strcmp(argv[1], "quarantine") == 0)
		return cmd_quarantine(argc - 1, argv + 1);
	if (strcmp(argv[1], "fim") == 0)
		return cmd_fim(argc - 1, argv + 1);
	if (strcmp(argv[1], "fleet") == 0)
		return cmd_fleet(argc - 1, argv + 1);
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("ward %s\n", WARD_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "ward: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_ERROR;
}
