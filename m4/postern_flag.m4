# POSTERN_ADD_FLAG(VARIABLE, FLAG)
# -------------------------------
# Append FLAG to VARIABLE (CFLAGS, CPPFLAGS or LDFLAGS) if $CC compiles
# and links a small program with it and -Werror: a flag the compiler
# or linker does not know, or one it only warns about (a second
# _FORTIFY_SOURCE, say), is left out.
AC_DEFUN([POSTERN_ADD_FLAG], [
  AC_MSG_CHECKING([whether $CC accepts $2])
  postern_flag_saved=[$]$1
  $1="[$]$1 $2"
  postern_flag_cflags=$CFLAGS
  CFLAGS="$CFLAGS -Werror"
  AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <stdio.h>
#include <string.h>]], [[char b[16];
    strcpy(b, "hardening");
    return printf("%s", b) < 0;]])],
    [postern_flag_ok=yes], [postern_flag_ok=no])
  CFLAGS=$postern_flag_cflags
  AS_IF([test "$postern_flag_ok" != yes], [$1=$postern_flag_saved])
  AC_MSG_RESULT([$postern_flag_ok])
])
