#ifndef GW_CSQLITE_SHIM_H
#define GW_CSQLITE_SHIM_H
// Only static inline gw_ wrappers for what Swift cannot import (macros, variadics). No logic.
#include <sqlite3.h>
static inline sqlite3_destructor_type gw_sqlite_transient(void) { return SQLITE_TRANSIENT; }
#endif
