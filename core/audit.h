/* audit.h — the append-only audit log, written in the same transaction as each change. */
#ifndef TB_AUDIT_H
#define TB_AUDIT_H

#include <stdbool.h>

#include "db.h"

/* Insert one audit row: who (`actor`, a login or "admin-cli"/"system"), what
 * (`action`, e.g. "user.create"), on which `object` (e.g. "user:17") and a
 * `detail` (JSON text or a reason, may be NULL). Must be called inside the
 * write transaction of the change it records. */
bool audit_log(struct db *db, const char *actor, const char *action, const char *object,
               const char *detail);

#endif
