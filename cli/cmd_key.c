/*
 * ward key: signing keys for content bundles.
 *
 *   ward key gen --alg ed25519|sm2 --out NAME
 *
 * writes NAME.key (the private key, PKCS#8 PEM, mode 0600) and NAME.pub
 * (the public key, PEM) and prints the key id.  Existing files are never
 * overwritten: a lost private key cannot be recovered, a replaced one
 * silently invalidates every agent's trust list.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "crypto/sign.h"
#include "util/buf.h"
#include "util/file.h"

static void
key_usage(FILE *f)
{
	fprintf(f, "usage: ward key gen [--alg ed25519|sm2] --out NAME\n"
		   "\n"
		   "Generates a content signing key pair: NAME.key (private, mode 0600)\n"
		   "and NAME.pub (public, to list in the agents' trusted keys), and prints\n"
		   "the key id (the first 16 bytes of the SHA-256 of the public key, hex).\n"
		   "\n"
		   "  --alg ALG     ed25519 (default) or sm2 (SM2 signatures with SM3)\n"
		   "  --out NAME    path prefix of the two files (required)\n"
		   "  -h, --help    show this help\n");
}

/* Creates path with exactly the bytes of w; refuses to replace a file. */
static int
write_new(const char *path, const struct wbuf *w, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);

	if (fd < 0) {
		fprintf(stderr, "ward: %s: %s\n", path,
			errno == EEXIST ? "already exists; not overwriting a key" : strerror(errno));
		return EXIT_ERROR;
	}
	if (fchmod(fd, mode) != 0 || file_write_all(fd, w->p, w->len) != 0 || fsync(fd) != 0) {
		fprintf(stderr, "ward: %s: %s\n", path, strerror(errno));
		close(fd);
		unlink(path);
		return EXIT_ERROR;
	}
	close(fd);
	return 0;
}

/* Loads a PEM key file (private or public); prints why on failure. */
struct sign_key *
cli_load_key(const char *path, int private)
{
	struct sign_key *k = NULL;
	struct ward_diag d;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	diag_clear(&d);
	r = file_read_all(path, SIGN_MAX_PEM, &buf, &len, &d);
	if (r != 0) {
		cli_diag(&d);
		return NULL;
	}
	r = sign_key_from_pem((const char *)buf, len, private, &k);
	OPENSSL_cleanse(buf, len); /* a private key's PEM */
	free(buf);
	if (r != 0)
		fprintf(stderr, "ward: %s: not an Ed25519 or SM2 %s key in PEM form\n", path,
			private ? "private" : "public");
	return k;
}

static int
key_gen(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"alg", required_argument, NULL, 'a'},
		{"out", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	enum sign_alg alg = SIGN_ED25519;
	const char *out = NULL;
	struct sign_key *k = NULL;
	char priv[4096], pub[4096], id[2 * SIGN_KEY_ID_SIZE + 1];
	struct wbuf w;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (sign_alg_from_name(optarg, &alg) != 0) {
				fprintf(stderr, "ward: --alg must be ed25519 or sm2, not '%s'\n",
					optarg);
				return EXIT_ERROR;
			}
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			key_usage(stdout);
			return 0;
		default:
			key_usage(stderr);
			return EXIT_ERROR;
		}
	}
	if (out == NULL || optind != argc) {
		key_usage(stderr);
		return EXIT_ERROR;
	}
	if (snprintf(priv, sizeof(priv), "%s.key", out) >= (int)sizeof(priv) ||
	    snprintf(pub, sizeof(pub), "%s.pub", out) >= (int)sizeof(pub)) {
		fprintf(stderr, "ward: --out: path too long\n");
		return EXIT_ERROR;
	}
	if (access(priv, F_OK) == 0 || access(pub, F_OK) == 0) {
		fprintf(stderr, "ward: %s.key or %s.pub already exists; not overwriting a key\n",
			out, out);
		return EXIT_ERROR;
	}
	if ((r = sign_keygen(alg, &k)) != 0) {
		fprintf(stderr, "ward: cannot generate a %s key: %s\n", sign_alg_name(alg),
			ward_strerror(r));
		return EXIT_ERROR;
	}
	wbuf_init(&w);
	r = sign_key_to_pem(k, 1, &w) != 0 ? EXIT_ERROR : write_new(priv, &w, 0600);
	if (w.p != NULL)
		OPENSSL_cleanse(w.p, w.len);
	wbuf_free(&w);
	if (r == 0) {
		wbuf_init(&w);
		r = sign_key_to_pem(k, 0, &w) != 0 ? EXIT_ERROR : write_new(pub, &w, 0644);
		wbuf_free(&w);
		if (r != 0)
			unlink(priv);
	}
	if (r == 0) {
		sign_key_id_hex(k, id);
		printf("%s\n", id);
		fprintf(stderr, "ward: wrote %s (keep it secret) and %s; %s key id %s\n", priv, pub,
			sign_alg_name(alg), id);
	}
	sign_key_free(k);
	return r;
}

int
cmd_key(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "gen") == 0)
		return key_gen(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		key_usage(stdout);
		return 0;
	}
	key_usage(stderr);
	return EXIT_ERROR;
}
