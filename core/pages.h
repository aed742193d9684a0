/*
** pages.h: page banks, the VFS that keeps a bank in memory for hosts that
** persist its pages themselves (see PAGE BANKS in mnemo.h).
*/
#ifndef MN_PAGES_H
#define MN_PAGES_H

#include "bank.h"

#define MN_PAGES_VFS "mnemo-pages"

/* Registers the VFS with SQLite once; an SQLite code. */
MN_FUNC int mn_pages_register(void);
/* 1 if a bank has the image `name` open. */
MN_FUNC int mn_pages_is_open(const char *name);

#endif
