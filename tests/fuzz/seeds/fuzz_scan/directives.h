#include "a.h"
#include_next <b.h>
/* #include <c.h> */
char *s = "/*";
#if __has_include(<d.h>)
#define H "e.h"
#include H
#endif
const char *r = R"x(
#include "no.h"
)x";
#inc\
lude "f.h"
%:include "g.h"
#pragma once
