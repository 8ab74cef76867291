#ifndef GW_CSQLITE_SHIM_H
#define GW_CSQLITE_SHIM_H
// Only static inline gw_ wrappers for what Swift cannot import (macros, variadics). No logic.
#include <sqlite3.h>
static inline sqlite3_destructor_type gw_sqlite_transient(void) { return SQLITE_TRANSIENT; }
/// sqlite3_db_config for the (int, int*) options (SQLITE_DBCONFIG_DEFENSIVE, ..._TRUSTED_SCHEMA).
static inline int gw_sqlite3_db_config_int(sqlite3 *db, int op, int value, int *out) {
    return sqlite3_db_config(db, op, value, out);
}
#endif
