/*
** schema.h: the bank's tables and their versioned migrations.
*/
#ifndef MN_SCHEMA_H
#define MN_SCHEMA_H

#include "bank.h"

/* 'MNEM' in the SQLite header's application_id: tells a Mnemo bank from any
** other SQLite database before a single table is touched. */
#define MN_SCHEMA_APP_ID 0x4D4E454D
#define MN_SCHEMA_VERSION 2

/* Brings the bank's schema to MN_SCHEMA_VERSION in one transaction; refuses
** a foreign database (MNEMO_ECORRUPT) or a newer one (MNEMO_ESCHEMA). */
MN_FUNC int mn_schema_migrate(mnemo *db);

/* Creates (and fills) the optional FTS5 table when `wanted`, and sets
** db->fts5 to whether the bank keeps one. Once a bank has it, every write
** maintains it. Recall never needs it: its BM25 runs on the in-memory index,
** and FTS5 costs about 40% of ingest. It serves SQL users who want MATCH. */
MN_FUNC int mn_schema_fts5(mnemo *db, int wanted);

#ifdef MNEMO_TEST
/* The SQL of migration step v (1-based), to build an old bank in a test. */
MN_FUNC const char *mn_schema_step(int v);
#endif

#endif
