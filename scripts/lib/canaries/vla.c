/* canary: dynamic stack allocation next to fixed buffers (where Debian's
 * aarch64 gcc 12 builds differ with -fstack-protector: CVE-2023-4039) */
#include <stddef.h>
#include <string.h>
void use(char *p, size_t n);
int vla(size_t n, const char *s)
{
	char fixed[32];
	char var[n + 1];
	char *a = __builtin_alloca(n * 2 + 1);
	memcpy(var, s, n);
	var[n] = 0;
	memcpy(fixed, s, n < sizeof fixed ? n : sizeof fixed);
	use(fixed, sizeof fixed);
	use(var, n);
	use(a, n * 2);
	return var[0] + fixed[1] + a[0];
}
