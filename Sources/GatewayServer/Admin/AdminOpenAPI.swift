/// The admin API's OpenAPI 3.1 document (SPEC §11), served at `GET /admin/openapi.json` on the
/// admin listener. It describes `AdminAPI` exactly; `Tests/integration/test_admin_api.py` checks it
/// with openapi-spec-validator and runs schemathesis against the live API.
enum AdminOpenAPI {
    static let path = "/admin/openapi.json"

    static let document: [UInt8] = Array(#"""
{
 "openapi": "3.1.0",
 "info": {
  "title": "gateway admin API",
  "version": "1",
  "description": "Principals, API keys, revocations and the audit trail (SPEC \u00a711). Served on admin_listen only. GET needs admin:read, every other method admin:write, through an API key or a JWT."
 },
 "security": [
  {
   "apiKey": []
  },
  {
   "bearer": []
  }
 ],
 "paths": {
  "/admin/principals": {
   "get": {
    "operationId": "listPrincipals",
    "parameters": [
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 1000,
       "default": 100
      }
     },
     {
      "name": "cursor",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "pattern": "^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"
      },
      "description": "The next_cursor of the previous page."
     }
    ],
    "responses": {
     "200": {
      "description": "A page of principals",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/PrincipalPage"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/InvalidRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthenticated"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/TooManyFailures"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   },
   "post": {
    "operationId": "createPrincipal",
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/PrincipalCreate"
       }
      }
     }
    },
    "responses": {
     "201": {
      "description": "Created",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Principal"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/InvalidRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthenticated"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/TooManyFailures"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     },
     "409": {
      "$ref": "#/components/responses/Conflict"
     }
    }
   }
  },
  "/admin/principals/{id}": {
   "parameters": [
    {
     "name": "id",
     "in": "path",
     "required": true,
     "schema": {
      "type": "string",
      "pattern": "^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"
     }
    }
   ],
   "get": {
    "operationId": "getPrincipal",
    "responses": {
     "200": {
      "description": "The principal",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Principal"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/InvalidRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthenticated"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/TooManyFailures"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    }
   },
   "patch": {
    "operationId": "updatePrincipal",
    "requestBody": {
     "required": false,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/PrincipalPatch"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "Updated",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Principal"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/InvalidRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthenticated"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/TooManyFailures"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    }
   },
   "delete": {
    "operationId": "deletePrincipal",
    "description": "Revokes every key of the principal at once and ends its refresh tokens.",
    "responses": {
     "200": {
      "description": "Deleted",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/PrincipalDeleted"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/InvalidRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthenticated"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/TooManyFailures"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    }
   }
  },
  "/admin/principals/{id}/keys": {
   "parameters": [
    {
     "name": "id",
     "in": "path",
     "required": true,
     "schema": {
      "type": "string",
      "pattern": "^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"
     }
    }
   ],
   "get": {
    "operationId": "listPrincipalKeys",
    "parameters": [
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 1000,
       "default": 100
      }
     },
     {
      "name": "cursor",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "pattern": "^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"
      },
      "description": "The next_cursor of the previous page."
     },
     {
      "name": "active",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "enum": [
        "true",
        "false"
       ]
      }
     }
    ],
    "responses": {
     "200": {
      "description": "A page of keys",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/KeyPage"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/InvalidRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthenticated"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/TooManyFailures"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    }
   },
   "post": {
    "operationId": "createKey",
    "description": "The answer holds the whole key (`key`) once; it is not stored.",
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/KeyCreate"
       }
      }
     }
    },
    "responses": {
     "201": {
      "description": "Created",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Key"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/InvalidRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthenticated"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/TooManyFailures"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    }
   }
  },
  "/admin/keys": {
   "get": {
    "operationId": "listKeys",
    "parameters": [
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 1000,
       "default": 100
      }
     },
     {
      "name": "cursor",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "pattern": "^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"
      },
      "description": "The next_cursor of the previous page."
     },
     {
      "name": "principal_id",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "pattern": "^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"
      }
     },
     {
      "name": "active",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "enum": [
        "true",
        "false"
       ]
      }
     }
    ],
    "responses": {
     "200": {
      "description": "A page of keys",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/KeyPage"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/InvalidRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthenticated"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/TooManyFailures"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   }
  },
  "/admin/keys/{id}": {
   "parameters": [
    {
     "name": "id",
     "in": "path",
     "required": true,
     "schema": {
      "type": "string",
      "pattern": "^[A-Za-z0-9]{12}$"
     }
    }
   ],
   "get": {
    "operationId": "getKey",
    "responses": {
     "200": {
      "description": "The key",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Key"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/InvalidRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthenticated"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/TooManyFailures"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    }
   },
   "patch": {
    "operationId": "updateKey",
    "requestBody": {
     "required": false,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/KeyPatch"
       }
      }
     }
    },
    "responses": {
     "200": {
      "description": "Updated",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Key"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/InvalidRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthenticated"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/TooManyFailures"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    }
   },
   "delete": {
    "operationId": "revokeKey",
    "description": "Revokes the key at once, with the access and refresh tokens issued from it.",
    "responses": {
     "200": {
      "description": "Revoked",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Key"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/InvalidRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthenticated"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/TooManyFailures"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     }
    }
   }
  },
  "/admin/keys/{id}/rotate": {
   "parameters": [
    {
     "name": "id",
     "in": "path",
     "required": true,
     "schema": {
      "type": "string",
      "pattern": "^[A-Za-z0-9]{12}$"
     }
    }
   ],
   "post": {
    "operationId": "rotateKey",
    "description": "A new key for the same principal and settings; the old one works for grace_seconds.",
    "requestBody": {
     "required": false,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/KeyRotate"
       }
      }
     }
    },
    "responses": {
     "201": {
      "description": "The new key, shown once",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Key"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/InvalidRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthenticated"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/TooManyFailures"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     },
     "404": {
      "$ref": "#/components/responses/NotFound"
     },
     "409": {
      "$ref": "#/components/responses/Conflict"
     }
    }
   }
  },
  "/admin/revocations": {
   "post": {
    "operationId": "revoke",
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/Revocation"
       }
      }
     }
    },
    "responses": {
     "201": {
      "description": "Revoked",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/RevocationResult"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/InvalidRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthenticated"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/TooManyFailures"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   }
  },
  "/admin/audit": {
   "get": {
    "operationId": "listAudit",
    "parameters": [
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "schema": {
       "type": "integer",
       "minimum": 1,
       "maximum": 1000,
       "default": 100
      }
     },
     {
      "name": "cursor",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "pattern": "^[1-9][0-9]{0,17}$"
      },
      "description": "The next_cursor of the previous page."
     },
     {
      "name": "since",
      "in": "query",
      "required": false,
      "schema": {
       "type": "integer",
       "minimum": 0,
       "maximum": 253402300799
      }
     },
     {
      "name": "until",
      "in": "query",
      "required": false,
      "schema": {
       "type": "integer",
       "minimum": 0,
       "maximum": 253402300799
      }
     },
     {
      "name": "principal_id",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "pattern": "^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"
      }
     },
     {
      "name": "outcome",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "pattern": "^[a-z_]{1,64}$"
      }
     },
     {
      "name": "kind",
      "in": "query",
      "required": false,
      "schema": {
       "type": "string",
       "pattern": "^[a-z_]{1,64}$"
      }
     }
    ],
    "responses": {
     "200": {
      "description": "A page of audit events, newest first",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/AuditPage"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/InvalidRequest"
     },
     "401": {
      "$ref": "#/components/responses/Unauthenticated"
     },
     "403": {
      "$ref": "#/components/responses/Forbidden"
     },
     "429": {
      "$ref": "#/components/responses/TooManyFailures"
     },
     "503": {
      "$ref": "#/components/responses/Unavailable"
     }
    }
   }
  }
 },
 "components": {
  "responses": {
   "InvalidRequest": {
    "description": "Invalid request",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Unauthenticated": {
    "description": "No credential or an invalid one",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Forbidden": {
    "description": "The credential lacks admin:read or admin:write",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "NotFound": {
    "description": "Not found",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Conflict": {
    "description": "Exists already, or the key cannot be rotated",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "TooManyFailures": {
    "description": "Too many failed authentications",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   },
   "Unavailable": {
    "description": "The store is unavailable",
    "content": {
     "application/json": {
      "schema": {
       "$ref": "#/components/schemas/Error"
      }
     }
    }
   }
  },
  "securitySchemes": {
   "apiKey": {
    "type": "apiKey",
    "in": "header",
    "name": "X-API-Key",
    "description": "The api_keys header (X-API-Key unless configured otherwise)."
   },
   "bearer": {
    "type": "http",
    "scheme": "bearer",
    "description": "A JWT or an API key as Bearer."
   }
  },
  "schemas": {
   "Error": {
    "type": "object",
    "required": [
     "error",
     "error_description"
    ],
    "properties": {
     "error": {
      "type": "string"
     },
     "error_description": {
      "type": "string"
     },
     "request_id": {
      "type": "string"
     }
    }
   },
   "Principal": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "id",
     "name",
     "org_id",
     "email",
     "created_at"
    ],
    "properties": {
     "id": {
      "type": "string"
     },
     "name": {
      "type": [
       "string",
       "null"
      ]
     },
     "org_id": {
      "type": [
       "string",
       "null"
      ]
     },
     "email": {
      "type": [
       "string",
       "null"
      ]
     },
     "created_at": {
      "type": "integer"
     }
    }
   },
   "PrincipalCreate": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "id"
    ],
    "properties": {
     "id": {
      "type": "string",
      "pattern": "^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"
     },
     "name": {
      "type": "string",
      "minLength": 1,
      "maxLength": 256,
      "pattern": "^[^\\s\\x00-\\x1F\\x7F-\\x9F]([^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F])?$"
     },
     "org_id": {
      "type": "string",
      "minLength": 1,
      "maxLength": 256,
      "pattern": "^[^\\s\\x00-\\x1F\\x7F-\\x9F]([^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F])?$"
     },
     "email": {
      "type": "string",
      "minLength": 1,
      "maxLength": 256,
      "pattern": "^[^\\s\\x00-\\x1F\\x7F-\\x9F]([^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F])?$"
     }
    }
   },
   "PrincipalPatch": {
    "type": "object",
    "additionalProperties": false,
    "properties": {
     "name": {
      "type": [
       "string",
       "null"
      ],
      "minLength": 1,
      "maxLength": 256,
      "pattern": "^[^\\s\\x00-\\x1F\\x7F-\\x9F]([^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F])?$"
     },
     "org_id": {
      "type": [
       "string",
       "null"
      ],
      "minLength": 1,
      "maxLength": 256,
      "pattern": "^[^\\s\\x00-\\x1F\\x7F-\\x9F]([^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F])?$"
     },
     "email": {
      "type": [
       "string",
       "null"
      ],
      "minLength": 1,
      "maxLength": 256,
      "pattern": "^[^\\s\\x00-\\x1F\\x7F-\\x9F]([^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F])?$"
     }
    }
   },
   "PrincipalDeleted": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "id",
     "deleted",
     "keys_revoked"
    ],
    "properties": {
     "id": {
      "type": "string"
     },
     "deleted": {
      "type": "boolean"
     },
     "keys_revoked": {
      "type": "integer"
     }
    }
   },
   "PrincipalPage": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "items",
     "next_cursor"
    ],
    "properties": {
     "items": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/Principal"
      }
     },
     "next_cursor": {
      "type": [
       "string",
       "null"
      ]
     }
    }
   },
   "Key": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "id",
     "name",
     "principal",
     "permissions",
     "roles",
     "rate_limit",
     "org",
     "created_at",
     "expires_at",
     "last_used_at",
     "active",
     "legacy"
    ],
    "properties": {
     "id": {
      "type": "string"
     },
     "key": {
      "type": "string",
      "description": "Only when just created or rotated."
     },
     "name": {
      "type": "string"
     },
     "principal": {
      "type": "string"
     },
     "permissions": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "roles": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "rate_limit": {
      "type": [
       "string",
       "null"
      ]
     },
     "org": {
      "type": [
       "string",
       "null"
      ]
     },
     "created_at": {
      "type": "integer"
     },
     "expires_at": {
      "type": [
       "integer",
       "null"
      ]
     },
     "last_used_at": {
      "type": [
       "integer",
       "null"
      ]
     },
     "active": {
      "type": "boolean"
     },
     "legacy": {
      "type": "boolean"
     }
    }
   },
   "KeyCreate": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "name"
    ],
    "properties": {
     "name": {
      "type": "string",
      "minLength": 1,
      "maxLength": 256,
      "pattern": "^[^\\s\\x00-\\x1F\\x7F-\\x9F]([^\\x00-\\x1F\\x7F-\\x9F]*[^\\s\\x00-\\x1F\\x7F-\\x9F])?$"
     },
     "permissions": {
      "type": "array",
      "items": {
       "type": "string",
       "minLength": 1,
       "maxLength": 128,
       "pattern": "^[\\x21\\x23-\\x2B\\x2D-\\x5B\\x5D-\\x7E]+$"
      },
      "maxItems": 256
     },
     "roles": {
      "type": "array",
      "items": {
       "type": "string",
       "minLength": 1,
       "maxLength": 128,
       "pattern": "^[\\x21\\x23-\\x2B\\x2D-\\x5B\\x5D-\\x7E]+$"
      },
      "maxItems": 64
     },
     "rate_limit": {
      "type": "string",
      "pattern": "^[1-9][0-9]{0,8}/(s|min|h|d)( burst=[1-9][0-9]{0,8})?$",
      "description": "e.g. 100/min or 100/min burst=20"
     },
     "expires_at": {
      "type": "integer",
      "minimum": 0,
      "maximum": 253402300799,
      "description": "Unix seconds (a past time makes the key expired)"
     }
    }
   },
   "KeyPatch": {
    "type": "object",
    "additionalProperties": false,
    "properties": {
     "active": {
      "type": "boolean"
     },
     "permissions": {
      "type": "array",
      "items": {
       "type": "string",
       "minLength": 1,
       "maxLength": 128,
       "pattern": "^[\\x21\\x23-\\x2B\\x2D-\\x5B\\x5D-\\x7E]+$"
      },
      "maxItems": 256
     },
     "roles": {
      "type": "array",
      "items": {
       "type": "string",
       "minLength": 1,
       "maxLength": 128,
       "pattern": "^[\\x21\\x23-\\x2B\\x2D-\\x5B\\x5D-\\x7E]+$"
      },
      "maxItems": 64
     },
     "rate_limit": {
      "oneOf": [
       {
        "type": "string",
        "pattern": "^[1-9][0-9]{0,8}/(s|min|h|d)( burst=[1-9][0-9]{0,8})?$",
        "description": "e.g. 100/min or 100/min burst=20"
       },
       {
        "type": "null"
       }
      ]
     },
     "expires_at": {
      "oneOf": [
       {
        "type": "integer",
        "minimum": 0,
        "maximum": 253402300799
       },
       {
        "type": "null"
       }
      ]
     }
    }
   },
   "KeyRotate": {
    "type": "object",
    "additionalProperties": false,
    "properties": {
     "grace_seconds": {
      "type": "integer",
      "minimum": 0,
      "maximum": 2592000,
      "default": 0
     }
    }
   },
   "KeyPage": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "items",
     "next_cursor"
    ],
    "properties": {
     "items": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/Key"
      }
     },
     "next_cursor": {
      "type": [
       "string",
       "null"
      ]
     }
    }
   },
   "Revocation": {
    "description": "Either a token id (jti, kept until expires_at, default 30 days) or a principal (every token of the gateway's own issued before issued_before, default now).",
    "oneOf": [
     {
      "type": "object",
      "additionalProperties": false,
      "required": [
       "jti"
      ],
      "properties": {
       "jti": {
        "type": "string",
        "minLength": 1,
        "maxLength": 256
       },
       "expires_at": {
        "type": "integer",
        "minimum": 0,
        "maximum": 253402300799
       }
      }
     },
     {
      "type": "object",
      "additionalProperties": false,
      "required": [
       "principal_id"
      ],
      "properties": {
       "principal_id": {
        "type": "string",
        "pattern": "^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"
       },
       "issued_before": {
        "type": "integer",
        "minimum": 0,
        "maximum": 253402300799
       }
      }
     }
    ]
   },
   "RevocationResult": {
    "type": "object",
    "additionalProperties": false,
    "properties": {
     "jti": {
      "type": "string"
     },
     "expires_at": {
      "type": "integer"
     },
     "principal_id": {
      "type": "string"
     },
     "issued_before": {
      "type": "integer"
     }
    }
   },
   "AuditEvent": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "id",
     "time",
     "kind",
     "outcome",
     "principal_id",
     "key_id",
     "actor",
     "detail",
     "count"
    ],
    "properties": {
     "id": {
      "type": "integer"
     },
     "time": {
      "type": "integer"
     },
     "kind": {
      "type": "string"
     },
     "outcome": {
      "type": "string"
     },
     "principal_id": {
      "type": [
       "string",
       "null"
      ]
     },
     "key_id": {
      "type": [
       "string",
       "null"
      ]
     },
     "actor": {
      "type": [
       "string",
       "null"
      ]
     },
     "detail": {
      "type": "string"
     },
     "count": {
      "type": "integer"
     }
    }
   },
   "AuditPage": {
    "type": "object",
    "additionalProperties": false,
    "required": [
     "items",
     "next_cursor"
    ],
    "properties": {
     "items": {
      "type": "array",
      "items": {
       "$ref": "#/components/schemas/AuditEvent"
      }
     },
     "next_cursor": {
      "type": [
       "string",
       "null"
      ]
     }
    }
   }
  }
 }
}
"""#.utf8)
}
