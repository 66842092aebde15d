/* Plain decimal numbers of the exchanges' level strings, parsed without
 * PyOS_string_to_double() when the result is certain to be float()'s.
 *
 * Exchanges send prices and sizes as plain decimals ("27000.10",
 * "0.00000000"). For those, the classic exact fast path (Clinger, "How to read
 * floating point numbers accurately", PLDI 1990) gives float()'s correctly
 * rounded double with one division: when the digits without the point form
 * an integer m <= 2**53 (exact in a double) and the number of digits after
 * the point k <= 22 (10**k exact in a double), m / 10**k is one correctly
 * rounded IEEE operation on two exact values, so it is the double nearest to
 * the decimal, as float() computes it. Anything else (a sign, an exponent,
 * more digits, spaces, underscores, "inf") is left to the caller's fallback.
 */
#ifndef DATASTORES_NUMBER_H
#define DATASTORES_NUMBER_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

static const double decimal_powers[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

#define DECIMAL_EXACT_MAX ((uint64_t)1 << 53)

/* `len` bytes of the form [0-9]+ or [0-9]+.[0-9]* as float() reads them: 1
 * and *out set when the fast path is exact, 0 (nothing set, no exception)
 * when the caller must parse it the slow way. Pure C. */
static inline int
decimal_fast(const char *text, Py_ssize_t len, double *out)
{
    uint64_t m = 0;
    Py_ssize_t i = 0, point = -1;
    unsigned d;
    for (; i < len; i++) {
        d = (unsigned)(unsigned char)text[i] - '0';
        if (d <= 9) {
            m = m * 10 + d; /* m <= 2**53 before: no overflow */
            if (m > DECIMAL_EXACT_MAX)
                return 0;
        }
        else if (text[i] == '.' && point < 0 && i > 0) {
            point = i;
        }
        else {
            return 0;
        }
    }
    if (len == 0)
        return 0;
    if (point < 0) {
        *out = (double)m;
        return 1;
    }
    if (len - point - 1 > 22)
        return 0;
    *out = (double)m / decimal_powers[len - point - 1];
    return 1;
}

#endif
