/* canary: the usual mix (structs by value, floating point constants folded
 * through MPFR, a switch table, strings, a loop to vectorise) */
#include <stdint.h>
struct v { double x, y; int32_t k; };
static const char *const names[] = { "zero", "one", "two", "three", "four", "five" };
struct v scale(struct v a, double f) { a.x *= f; a.y = a.y * f + 1.0 / 3.0; return a; }
double folded(void) { return __builtin_sin(0.5) * __builtin_exp(1.25) + __builtin_pow(2.0, 0.3); }
const char *name(unsigned i)
{
	switch (i) {
	case 0: case 1: case 2: return names[i];
	case 3: return names[3];
	case 4: case 5: return names[i];
	case 17: return "seventeen";
	default: return "many";
	}
}
void add(int32_t *restrict d, const int32_t *restrict a, const int32_t *restrict b, int n)
{
	for (int i = 0; i < n; i++)
		d[i] = a[i] * 3 + b[i];
}
