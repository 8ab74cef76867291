"""Generates Sources/GatewayServer/Admin/AdminOpenAPI.swift (the admin API's OpenAPI 3.1 document).
Run after changing the admin API: python3 scripts/gen-admin-openapi.py"""
import json
from pathlib import Path
ID = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"}
def err(desc): return {"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
def ok(desc, ref, status="200"):
    return {status: {"description": desc, "content": {"application/json": {"schema": {"$ref": ref}}}}}
ERRORS = {"400": "InvalidRequest", "401": "Unauthenticated", "403": "Forbidden", "404": "NotFound", "409": "Conflict",
          "429": "TooManyFailures", "503": "Unavailable"}
ERROR_TEXT = {"InvalidRequest": "Invalid request", "Unauthenticated": "No credential or an invalid one",
              "Forbidden": "The credential lacks admin:read or admin:write", "NotFound": "Not found", "Conflict": "Exists already, or the key cannot be rotated",
              "TooManyFailures": "Too many failed authentications", "Unavailable": "The store is unavailable"}
common = {code: {"$ref": f"#/components/responses/{ERRORS[code]}"} for code in ("400", "401", "403", "429", "503")}
def responses(d, *extra):
    r = dict(d)
    r.update(common)
    for code in extra:
        r[code] = {"$ref": f"#/components/responses/{ERRORS[code]}"}
    return r
limit = {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}
cursor = {"name": "cursor", "in": "query", "required": False, "schema": ID, "description": "The next_cursor of the previous page."}
audit_cursor = dict(cursor, schema={"type": "string", "pattern": "^[1-9][0-9]{0,17}$"})
WORD = {"type": "string", "pattern": "^[a-z_]{1,64}$"}
def pid(name="id"): return {"name": name, "in": "path", "required": True, "schema": ID}
keyid = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[A-Za-z0-9]{12}$"}}
def body(ref): return {"required": True, "content": {"application/json": {"schema": {"$ref": ref}}}}
def optbody(ref): return {"required": False, "content": {"application/json": {"schema": {"$ref": ref}}}}
# Identity texts: no control characters (C0, DEL, C1), no leading or trailing whitespace.
TEXT_PATTERN = "^[^\\s\\x00-\\x1F\\x7F-\\x9F]([^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F])?$"
text = {"type": "string", "minLength": 1, "maxLength": 256, "pattern": TEXT_PATTERN}
nullable_text = {"type": ["string", "null"], "minLength": 1, "maxLength": 256, "pattern": TEXT_PATTERN}
# Permissions and roles: visible ASCII without , " or \ (SPEC §6).
perm = {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[\\x21\\x23-\\x2B\\x2D-\\x5B\\x5D-\\x7E]+$"}
TIME = {"type": "integer", "minimum": 0, "maximum": 253402300799}
RATE = {"type": "string", "pattern": "^[1-9][0-9]{0,8}/(s|min|h|d)( burst=[1-9][0-9]{0,8})?$", "description": "e.g. 100/min or 100/min burst=20"}
doc = {
 "openapi": "3.1.0",
 "info": {"title": "gateway admin API", "version": "1",
          "description": "Principals, API keys, revocations and the audit trail (SPEC §11). Served on admin_listen only. "
                         "GET needs admin:read, every other method admin:write, through an API key or a JWT."},
 "security": [{"apiKey": []}, {"bearer": []}],
 "paths": {
  "/admin/principals": {
   "get": {"operationId": "listPrincipals", "parameters": [limit, cursor],
           "responses": responses(ok("A page of principals", "#/components/schemas/PrincipalPage"))},
   "post": {"operationId": "createPrincipal", "requestBody": body("#/components/schemas/PrincipalCreate"),
            "responses": responses(ok("Created", "#/components/schemas/Principal", "201"), "409")}},
  "/admin/principals/{id}": {
   "parameters": [pid()],
   "get": {"operationId": "getPrincipal", "responses": responses(ok("The principal", "#/components/schemas/Principal"), "404")},
   "patch": {"operationId": "updatePrincipal", "requestBody": optbody("#/components/schemas/PrincipalPatch"),
             "responses": responses(ok("Updated", "#/components/schemas/Principal"), "404")},
   "delete": {"operationId": "deletePrincipal", "description": "Revokes every key of the principal at once and ends its refresh tokens.",
              "responses": responses(ok("Deleted", "#/components/schemas/PrincipalDeleted"), "404")}},
  "/admin/principals/{id}/keys": {
   "parameters": [pid()],
   "get": {"operationId": "listPrincipalKeys",
           "parameters": [limit, cursor, {"name": "active", "in": "query", "required": False, "schema": {"type": "string", "enum": ["true", "false"]}}],
           "responses": responses(ok("A page of keys", "#/components/schemas/KeyPage"), "404")},
   "post": {"operationId": "createKey", "description": "The answer holds the whole key (`key`) once; it is not stored.",
            "requestBody": body("#/components/schemas/KeyCreate"),
            "responses": responses(ok("Created", "#/components/schemas/Key", "201"), "404")}},
  "/admin/keys": {
   "get": {"operationId": "listKeys",
           "parameters": [limit, cursor, {"name": "principal_id", "in": "query", "required": False, "schema": ID},
                          {"name": "active", "in": "query", "required": False, "schema": {"type": "string", "enum": ["true", "false"]}}],
           "responses": responses(ok("A page of keys", "#/components/schemas/KeyPage"))}},
  "/admin/keys/{id}": {
   "parameters": [keyid],
   "get": {"operationId": "getKey", "responses": responses(ok("The key", "#/components/schemas/Key"), "404")},
   "patch": {"operationId": "updateKey", "requestBody": optbody("#/components/schemas/KeyPatch"),
             "responses": responses(ok("Updated", "#/components/schemas/Key"), "404")},
   "delete": {"operationId": "revokeKey", "description": "Revokes the key at once, with the access and refresh tokens issued from it.",
              "responses": responses(ok("Revoked", "#/components/schemas/Key"), "404")}},
  "/admin/keys/{id}/rotate": {
   "parameters": [keyid],
   "post": {"operationId": "rotateKey", "description": "A new key for the same principal and settings; the old one works for grace_seconds.",
            "requestBody": optbody("#/components/schemas/KeyRotate"),
            "responses": responses(ok("The new key, shown once", "#/components/schemas/Key", "201"), "404", "409")}},
  "/admin/revocations": {
   "post": {"operationId": "revoke", "requestBody": body("#/components/schemas/Revocation"),
            "responses": responses(ok("Revoked", "#/components/schemas/RevocationResult", "201"))}},
  "/admin/audit": {
   "get": {"operationId": "listAudit",
           "parameters": [limit, audit_cursor] + [{"name": n, "in": "query", "required": False, "schema": s} for n, s in [
               ("since", TIME), ("until", TIME), ("principal_id", ID),
               ("outcome", WORD), ("kind", WORD)]],
           "responses": responses(ok("A page of audit events, newest first", "#/components/schemas/AuditPage"))}},
 },
 "components": {
  "responses": {name: err(text) for name, text in ERROR_TEXT.items()},
  "securitySchemes": {
   "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "The api_keys header (X-API-Key unless configured otherwise)."},
   "bearer": {"type": "http", "scheme": "bearer", "description": "A JWT or an API key as Bearer."}},
  "schemas": {
   "Error": {"type": "object", "required": ["error", "error_description"],
             "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}, "request_id": {"type": "string"}}},
   "Principal": {"type": "object", "additionalProperties": False, "required": ["id", "name", "org_id", "email", "created_at"],
                 "properties": {"id": {"type": "string"}, "name": {"type": ["string", "null"]}, "org_id": {"type": ["string", "null"]},
                                "email": {"type": ["string", "null"]}, "created_at": {"type": "integer"}}},
   "PrincipalCreate": {"type": "object", "additionalProperties": False, "required": ["id"],
                       "properties": {"id": ID, "name": text, "org_id": text, "email": text}},
   "PrincipalPatch": {"type": "object", "additionalProperties": False,
                      "properties": {"name": nullable_text, "org_id": nullable_text, "email": nullable_text}},
   "PrincipalDeleted": {"type": "object", "additionalProperties": False, "required": ["id", "deleted", "keys_revoked"],
                        "properties": {"id": {"type": "string"}, "deleted": {"type": "boolean"}, "keys_revoked": {"type": "integer"}}},
   "PrincipalPage": {"type": "object", "additionalProperties": False, "required": ["items", "next_cursor"],
                     "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Principal"}},
                                    "next_cursor": {"type": ["string", "null"]}}},
   "Key": {"type": "object", "additionalProperties": False,
           "required": ["id", "name", "principal", "permissions", "roles", "rate_limit", "org", "created_at", "expires_at",
                        "last_used_at", "active", "legacy"],
           "properties": {"id": {"type": "string"}, "key": {"type": "string", "description": "Only when just created or rotated."},
                          "name": {"type": "string"}, "principal": {"type": "string"},
                          "permissions": {"type": "array", "items": {"type": "string"}}, "roles": {"type": "array", "items": {"type": "string"}},
                          "rate_limit": {"type": ["string", "null"]}, "org": {"type": ["string", "null"]}, "created_at": {"type": "integer"},
                          "expires_at": {"type": ["integer", "null"]}, "last_used_at": {"type": ["integer", "null"]},
                          "active": {"type": "boolean"}, "legacy": {"type": "boolean"}}},
   "KeyCreate": {"type": "object", "additionalProperties": False, "required": ["name"],
                 "properties": {"name": text,
                                "permissions": {"type": "array", "items": perm, "maxItems": 256},
                                "roles": {"type": "array", "items": perm, "maxItems": 64},
                                "rate_limit": RATE,
                                "expires_at": dict(TIME, description="Unix seconds (a past time makes the key expired)")}},
   "KeyPatch": {"type": "object", "additionalProperties": False,
                "properties": {"active": {"type": "boolean"}, "permissions": {"type": "array", "items": perm, "maxItems": 256},
                               "roles": {"type": "array", "items": perm, "maxItems": 64},
                               "rate_limit": {"oneOf": [RATE, {"type": "null"}]},
                               "expires_at": {"oneOf": [TIME, {"type": "null"}]}}},
   "KeyRotate": {"type": "object", "additionalProperties": False,
                 "properties": {"grace_seconds": {"type": "integer", "minimum": 0, "maximum": 2592000, "default": 0}}},
   "KeyPage": {"type": "object", "additionalProperties": False, "required": ["items", "next_cursor"],
               "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Key"}},
                              "next_cursor": {"type": ["string", "null"]}}},
   "Revocation": {"description": "Either a token id (jti, kept until expires_at, default 30 days) or a principal (every token of the gateway's own issued before issued_before, default now).",
                  "oneOf": [
                      {"type": "object", "additionalProperties": False, "required": ["jti"],
                       "properties": {"jti": {"type": "string", "minLength": 1, "maxLength": 256}, "expires_at": TIME}},
                      {"type": "object", "additionalProperties": False, "required": ["principal_id"],
                       "properties": {"principal_id": ID, "issued_before": TIME}}]},
   "RevocationResult": {"type": "object", "additionalProperties": False,
                        "properties": {"jti": {"type": "string"}, "expires_at": {"type": "integer"},
                                       "principal_id": {"type": "string"}, "issued_before": {"type": "integer"}}},
   "AuditEvent": {"type": "object", "additionalProperties": False,
                  "required": ["id", "time", "kind", "outcome", "principal_id", "key_id", "actor", "detail", "count"],
                  "properties": {"id": {"type": "integer"}, "time": {"type": "integer"}, "kind": {"type": "string"},
                                 "outcome": {"type": "string"}, "principal_id": {"type": ["string", "null"]},
                                 "key_id": {"type": ["string", "null"]}, "actor": {"type": ["string", "null"]},
                                 "detail": {"type": "string"}, "count": {"type": "integer"}}},
   "AuditPage": {"type": "object", "additionalProperties": False, "required": ["items", "next_cursor"],
                 "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEvent"}},
                                "next_cursor": {"type": ["string", "null"]}}},
  }}}
text_json = json.dumps(doc, indent=1, ensure_ascii=True)
assert '"""' not in text_json
swift = f'''/// The admin API's OpenAPI 3.1 document (SPEC §11), served at `GET /admin/openapi.json` on the
/// admin listener. It describes `AdminAPI` exactly; `Tests/integration/test_admin_api.py` checks it
/// with openapi-spec-validator and runs schemathesis against the live API.
enum AdminOpenAPI {{
    static let path = "/admin/openapi.json"

    static let document: [UInt8] = Array(#"""
{text_json}
"""#.utf8)
}}
'''
open(Path(__file__).resolve().parent.parent / "Sources/GatewayServer/Admin/AdminOpenAPI.swift", "w").write(swift)
print(len(text_json))
