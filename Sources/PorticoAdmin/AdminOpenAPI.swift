/// The admin API's own OpenAPI 3.1 document, served at `GET /admin/openapi.json`.
///
/// Kept beside the endpoints it describes; `AdminOpenAPITests` calls every operation in it and
/// checks each answer against the document, so the two cannot drift apart unnoticed.
enum AdminOpenAPI {
    static let document = #"""
{
 "openapi": "3.1.0",
 "info": {
  "title": "Portico admin API",
  "version": "1",
  "description": "The operator's API of a Portico gateway, on its own listener. Every request needs `Authorization: Bearer <admin.token>`; every error is application/problem+json with the request id."
 },
 "servers": [
  {
   "url": "http://127.0.0.1:9901"
  }
 ],
 "security": [
  {
   "adminToken": []
  }
 ],
 "paths": {
  "/admin/status": {
   "get": {
    "operationId": "getStatus",
    "summary": "The running config, reloads and the call log's queue.",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Status"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    },
    "tags": [
     "runtime"
    ]
   }
  },
  "/admin/reload": {
   "post": {
    "operationId": "reload",
    "summary": "Reload the config now; a bad config leaves the running one serving.",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Reload"
        }
       }
      }
     },
     "422": {
      "description": "The config is invalid; every problem is listed.",
      "content": {
       "application/problem+json": {
        "schema": {
         "allOf": [
          {
           "$ref": "#/components/schemas/Problem"
          },
          {
           "type": "object",
           "properties": {
            "errors": {
             "type": "array",
             "items": {
              "type": "string"
             }
            }
           },
           "required": [
            "errors"
           ]
          }
         ]
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    },
    "tags": [
     "runtime"
    ]
   }
  },
  "/admin/routes": {
   "get": {
    "operationId": "listRoutes",
    "summary": "The compiled route table: API, version, upstream and policies of each route.",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Routes"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    },
    "tags": [
     "runtime"
    ]
   }
  },
  "/admin/upstreams": {
   "get": {
    "operationId": "listUpstreams",
    "summary": "Each upstream's balancer and breaker, each target's health and load.",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Upstreams"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    },
    "tags": [
     "upstreams"
    ]
   }
  },
  "/admin/upstreams/{upstream}/targets/{index}/drain": {
   "post": {
    "operationId": "drainTarget",
    "summary": "Take a target out of rotation.",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Upstreams"
        }
       }
      }
     },
     "404": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/upstream"
     },
     {
      "$ref": "#/components/parameters/index"
     }
    ],
    "tags": [
     "upstreams"
    ]
   }
  },
  "/admin/upstreams/{upstream}/targets/{index}/undrain": {
   "post": {
    "operationId": "undrainTarget",
    "summary": "Put a drained target back.",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Upstreams"
        }
       }
      }
     },
     "404": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/upstream"
     },
     {
      "$ref": "#/components/parameters/index"
     }
    ],
    "tags": [
     "upstreams"
    ]
   }
  },
  "/admin/consumers": {
   "get": {
    "operationId": "listConsumers",
    "summary": "Consumers from the config and the store.",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "consumers": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/Consumer"
           }
          }
         },
         "required": [
          "consumers"
         ]
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    },
    "tags": [
     "consumers"
    ]
   },
   "post": {
    "operationId": "createConsumer",
    "summary": "Create a consumer in the store.",
    "responses": {
     "201": {
      "description": "Created",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Consumer"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "409": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "properties": {
         "name": {
          "type": "string"
         },
         "groups": {
          "type": "array",
          "items": {
           "type": "string"
          }
         },
         "plan": {
          "type": "string"
         },
         "scopes": {
          "type": "array",
          "items": {
           "type": "string"
          }
         },
         "password": {
          "type": "string"
         }
        },
        "required": [
         "name"
        ]
       }
      }
     }
    },
    "tags": [
     "consumers"
    ]
   }
  },
  "/admin/consumers/{name}": {
   "get": {
    "operationId": "getConsumer",
    "summary": "One consumer.",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Consumer"
        }
       }
      }
     },
     "404": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/name"
     }
    ],
    "tags": [
     "consumers"
    ]
   },
   "delete": {
    "operationId": "deleteConsumer",
    "summary": "Delete a consumer of the store and its keys.",
    "responses": {
     "204": {
      "description": "Deleted"
     },
     "404": {
      "$ref": "#/components/responses/Problem"
     },
     "409": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/name"
     }
    ],
    "tags": [
     "consumers"
    ]
   }
  },
  "/admin/consumers/{name}/password": {
   "put": {
    "operationId": "setPassword",
    "summary": "Set the consumer's basic-auth password (stored as a PBKDF2 hash).",
    "responses": {
     "204": {
      "description": "Set"
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "404": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/name"
     }
    ],
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "properties": {
         "password": {
          "type": "string"
         }
        },
        "required": [
         "password"
        ]
       }
      }
     }
    },
    "tags": [
     "consumers"
    ]
   }
  },
  "/admin/consumers/{name}/keys": {
   "get": {
    "operationId": "listKeys",
    "summary": "The consumer's keys, without the keys themselves.",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "keys": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/Key"
           }
          }
         },
         "required": [
          "keys"
         ]
        }
       }
      }
     },
     "404": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/name"
     }
    ],
    "tags": [
     "keys"
    ]
   },
   "post": {
    "operationId": "createKey",
    "summary": "Issue a key; the answer holds it, this once.",
    "responses": {
     "201": {
      "description": "Created",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/CreatedKey"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "404": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/name"
     }
    ],
    "requestBody": {
     "required": false,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "properties": {
         "expires": {
          "type": "string",
          "description": "A duration such as 90d."
         }
        },
        "required": []
       }
      }
     }
    },
    "tags": [
     "keys"
    ]
   }
  },
  "/admin/consumers/{name}/keys/{id}": {
   "delete": {
    "operationId": "revokeKey",
    "summary": "Revoke a key; gateways refuse it within a second.",
    "responses": {
     "204": {
      "description": "Revoked"
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "404": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/name"
     },
     {
      "$ref": "#/components/parameters/id"
     }
    ],
    "tags": [
     "keys"
    ]
   }
  },
  "/admin/consumers/{name}/keys/{id}/rotate": {
   "post": {
    "operationId": "rotateKey",
    "summary": "Issue a new key; the old one works for the grace period.",
    "responses": {
     "201": {
      "description": "Created",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/CreatedKey"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "404": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/name"
     },
     {
      "$ref": "#/components/parameters/id"
     }
    ],
    "requestBody": {
     "required": false,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "properties": {
         "grace": {
          "type": "string",
          "description": "How long the old key keeps working, such as 1h (default 24h)."
         }
        },
        "required": []
       }
      }
     }
    },
    "tags": [
     "keys"
    ]
   }
  },
  "/admin/limits": {
   "get": {
    "operationId": "getLimits",
    "summary": "Where a key stands under every limit that has seen it; charges nothing.",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "key": {
           "type": "string"
          },
          "limits": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/LimitState"
           }
          }
         },
         "required": [
          "key",
          "limits"
         ]
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    },
    "parameters": [
     {
      "name": "key",
      "in": "query",
      "required": true,
      "description": "A consumer's name, an IP, or parts joined by |.",
      "schema": {
       "type": "string"
      }
     }
    ],
    "tags": [
     "limits"
    ]
   }
  },
  "/admin/cache": {
   "get": {
    "operationId": "getCache",
    "summary": "What the response cache holds against its budget.",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/CacheStatistics"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    },
    "tags": [
     "cache"
    ]
   }
  },
  "/admin/cache/purge": {
   "post": {
    "operationId": "purgeCache",
    "summary": "Remove cached responses by URL, prefix, tag, or all.",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "purged": {
           "type": "integer",
           "description": "Entries removed from this node's cache."
          },
          "nodes": {
           "type": "string",
           "enum": [
            "this",
            "all"
           ],
           "description": "all: the purge was also sent to every node on the shared PostgreSQL store, which purge the same at once."
          }
         },
         "required": [
          "purged",
          "nodes"
         ]
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "oneOf": [
         {
          "type": "object",
          "properties": {
           "url": {
            "type": "string"
           }
          },
          "required": [
           "url"
          ]
         },
         {
          "type": "object",
          "properties": {
           "prefix": {
            "type": "string"
           }
          },
          "required": [
           "prefix"
          ]
         },
         {
          "type": "object",
          "properties": {
           "tag": {
            "type": "string"
           }
          },
          "required": [
           "tag"
          ]
         },
         {
          "type": "object",
          "properties": {
           "all": {
            "const": true
           }
          },
          "required": [
           "all"
          ]
         }
        ]
       }
      }
     }
    },
    "tags": [
     "cache"
    ]
   }
  },
  "/admin/analytics/timeseries": {
   "get": {
    "operationId": "timeSeries",
    "summary": "Counts, errors, bytes and latency percentiles per time bucket, from the rollups.",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "points": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/Usage"
           }
          }
         },
         "required": [
          "points"
         ]
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/since"
     },
     {
      "$ref": "#/components/parameters/from"
     },
     {
      "$ref": "#/components/parameters/to"
     },
     {
      "$ref": "#/components/parameters/api"
     },
     {
      "$ref": "#/components/parameters/version"
     },
     {
      "$ref": "#/components/parameters/route"
     },
     {
      "$ref": "#/components/parameters/consumer"
     },
     {
      "$ref": "#/components/parameters/status"
     },
     {
      "name": "bucket",
      "in": "query",
      "required": false,
      "description": "Bucket size such as 1m, 5m, 1h (default 1m).",
      "schema": {
       "type": "string"
      }
     }
    ],
    "tags": [
     "analytics"
    ]
   }
  },
  "/admin/analytics/top": {
   "get": {
    "operationId": "top",
    "summary": "The largest groups by route, consumer, status, version or API.",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "by": {
           "type": "string"
          },
          "rows": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/Usage"
           }
          }
         },
         "required": [
          "by",
          "rows"
         ]
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/since"
     },
     {
      "$ref": "#/components/parameters/from"
     },
     {
      "$ref": "#/components/parameters/to"
     },
     {
      "$ref": "#/components/parameters/api"
     },
     {
      "$ref": "#/components/parameters/version"
     },
     {
      "$ref": "#/components/parameters/route"
     },
     {
      "$ref": "#/components/parameters/consumer"
     },
     {
      "$ref": "#/components/parameters/status"
     },
     {
      "name": "by",
      "in": "query",
      "required": false,
      "description": "route, consumer, status, version or api (default route).",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "description": "How many (default 10).",
      "schema": {
       "type": "integer"
      }
     }
    ],
    "tags": [
     "analytics"
    ]
   }
  },
  "/admin/analytics/calls": {
   "get": {
    "operationId": "searchCalls",
    "summary": "The call log, newest first, as JSON, JSON lines or CSV.",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "calls": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/Call"
           }
          }
         },
         "required": [
          "calls"
         ]
        }
       },
       "application/x-ndjson": {
        "schema": {
         "type": "string"
        }
       },
       "text/csv": {
        "schema": {
         "type": "string"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    },
    "parameters": [
     {
      "$ref": "#/components/parameters/since"
     },
     {
      "$ref": "#/components/parameters/from"
     },
     {
      "$ref": "#/components/parameters/to"
     },
     {
      "$ref": "#/components/parameters/api"
     },
     {
      "$ref": "#/components/parameters/version"
     },
     {
      "$ref": "#/components/parameters/route"
     },
     {
      "$ref": "#/components/parameters/consumer"
     },
     {
      "$ref": "#/components/parameters/status"
     },
     {
      "name": "request_id",
      "in": "query",
      "required": false,
      "description": "One request.",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "min_ms",
      "in": "query",
      "required": false,
      "description": "Only calls at least this slow.",
      "schema": {
       "type": "number"
      }
     },
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "description": "Page size (default 100).",
      "schema": {
       "type": "integer"
      }
     },
     {
      "name": "offset",
      "in": "query",
      "required": false,
      "description": "Rows to skip.",
      "schema": {
       "type": "integer"
      }
     },
     {
      "name": "format",
      "in": "query",
      "required": false,
      "description": "json (default), jsonl or csv.",
      "schema": {
       "type": "string",
       "enum": [
        "json",
        "jsonl",
        "csv"
       ]
      }
     }
    ],
    "tags": [
     "analytics"
    ]
   }
  },
  "/metrics": {
   "get": {
    "operationId": "metrics",
    "summary": "Prometheus metrics in the text exposition format.",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "text/plain": {
        "schema": {
         "type": "string"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    },
    "tags": [
     "runtime"
    ]
   }
  },
  "/admin/openapi.json": {
   "get": {
    "operationId": "openapi",
    "summary": "This document.",
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      }
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    },
    "tags": [
     "runtime"
    ]
   }
  },
  "/admin/apps": {
   "get": {
    "operationId": "listApps",
    "summary": "The portal's developer apps, with their keys (never the keys themselves).",
    "parameters": [
     {
      "name": "status",
      "in": "query",
      "required": false,
      "description": "Only apps in this state.",
      "schema": {
       "type": "string",
       "enum": [
        "pending",
        "active",
        "rejected",
        "revoked"
       ]
      }
     }
    ],
    "responses": {
     "200": {
      "description": "OK",
      "content": {
       "application/json": {
        "schema": {
         "type": "object",
         "properties": {
          "apps": {
           "type": "array",
           "items": {
            "$ref": "#/components/schemas/App"
           }
          }
         },
         "required": [
          "apps"
         ]
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    }
   }
  },
  "/admin/apps/{app}/approve": {
   "post": {
    "operationId": "approveApp",
    "summary": "Approve a pending app (with portal.signup: approval); its developer can then issue keys.",
    "parameters": [
     {
      "$ref": "#/components/parameters/app"
     }
    ],
    "responses": {
     "200": {
      "description": "The app, now active",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/App"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "404": {
      "$ref": "#/components/responses/Problem"
     },
     "409": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    }
   }
  },
  "/admin/apps/{app}/revoke": {
   "post": {
    "operationId": "revokeApp",
    "summary": "Reject a pending app, or revoke an active one and all its keys at once.",
    "parameters": [
     {
      "$ref": "#/components/parameters/app"
     }
    ],
    "responses": {
     "200": {
      "description": "The app, now rejected or revoked",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/App"
        }
       }
      }
     },
     "400": {
      "$ref": "#/components/responses/Problem"
     },
     "404": {
      "$ref": "#/components/responses/Problem"
     },
     "409": {
      "$ref": "#/components/responses/Problem"
     },
     "401": {
      "$ref": "#/components/responses/Problem"
     }
    }
   }
  }
 },
 "components": {
  "securitySchemes": {
   "adminToken": {
    "type": "http",
    "scheme": "bearer",
    "description": "The config's admin.token."
   }
  },
  "parameters": {
   "since": {
    "name": "since",
    "in": "query",
    "required": false,
    "description": "How far back, e.g. 1h (default 1h).",
    "schema": {
     "type": "string"
    }
   },
   "from": {
    "name": "from",
    "in": "query",
    "required": false,
    "description": "Start (RFC 3339 or Unix seconds).",
    "schema": {
     "type": "string"
    }
   },
   "to": {
    "name": "to",
    "in": "query",
    "required": false,
    "description": "End (RFC 3339 or Unix seconds).",
    "schema": {
     "type": "string"
    }
   },
   "api": {
    "name": "api",
    "in": "query",
    "required": false,
    "description": "Only this API.",
    "schema": {
     "type": "string"
    }
   },
   "version": {
    "name": "version",
    "in": "query",
    "required": false,
    "description": "Only this version.",
    "schema": {
     "type": "string"
    }
   },
   "route": {
    "name": "route",
    "in": "query",
    "required": false,
    "description": "Only this route.",
    "schema": {
     "type": "string"
    }
   },
   "consumer": {
    "name": "consumer",
    "in": "query",
    "required": false,
    "description": "Only this consumer.",
    "schema": {
     "type": "string"
    }
   },
   "status": {
    "name": "status",
    "in": "query",
    "required": false,
    "description": "A status class such as 5xx (on calls also an exact status).",
    "schema": {
     "type": "string"
    }
   },
   "name": {
    "name": "name",
    "in": "path",
    "required": true,
    "description": "The consumer's name.",
    "schema": {
     "type": "string"
    }
   },
   "id": {
    "name": "id",
    "in": "path",
    "required": true,
    "description": "The key's id.",
    "schema": {
     "type": "integer"
    }
   },
   "upstream": {
    "name": "upstream",
    "in": "path",
    "required": true,
    "description": "The upstream's name.",
    "schema": {
     "type": "string"
    }
   },
   "index": {
    "name": "index",
    "in": "path",
    "required": true,
    "description": "The target's index.",
    "schema": {
     "type": "integer"
    }
   },
   "app": {
    "name": "app",
    "in": "path",
    "required": true,
    "description": "The app's id.",
    "schema": {
     "type": "integer"
    }
   }
  },
  "responses": {
   "Problem": {
    "description": "An RFC 9457 problem.",
    "content": {
     "application/problem+json": {
      "schema": {
       "$ref": "#/components/schemas/Problem"
      }
     }
    }
   }
  },
  "schemas": {
   "Problem": {
    "type": "object",
    "properties": {
     "type": {
      "type": "string"
     },
     "title": {
      "type": "string"
     },
     "status": {
      "type": "integer"
     },
     "detail": {
      "type": "string"
     },
     "instance": {
      "type": "string"
     },
     "request_id": {
      "type": "string"
     }
    },
    "required": [
     "type",
     "title",
     "status",
     "request_id"
    ]
   },
   "Status": {
    "type": "object",
    "properties": {
     "version": {
      "type": "string"
     },
     "node": {
      "type": "object",
      "description": "This node of a cluster (node.id in the config; the host name by default), and its store: the kind, and for PostgreSQL the URL without its password, whether it answers, and the nodes on the same database seen in the last minute.",
      "properties": {
       "id": {
        "type": "string"
       },
       "store": {
        "type": "object",
        "properties": {
         "kind": {
          "type": "string",
          "enum": [
           "sqlite",
           "postgres"
          ]
         },
         "url": {
          "type": "string"
         },
         "connected": {
          "type": "boolean"
         },
         "error": {
          "type": [
           "string",
           "null"
          ]
         },
         "peers": {
          "type": "array",
          "items": {
           "type": "object",
           "properties": {
            "id": {
             "type": "string"
            },
            "seen": {
             "type": "string"
            }
           }
          }
         }
        },
        "required": [
         "kind"
        ]
       }
      },
      "required": [
       "id"
      ]
     },
     "config_file": {
      "type": "string"
     },
     "config_hash": {
      "type": "string"
     },
     "loaded_at": {
      "type": "string",
      "format": "date-time"
     },
     "reloads": {
      "type": "object",
      "properties": {
       "succeeded": {
        "type": "integer"
       },
       "failed": {
        "type": "integer"
       },
       "last_trigger": {
        "type": [
         "string",
         "null"
        ]
       },
       "last_reload_ms": {
        "type": [
         "number",
         "null"
        ]
       }
      },
      "required": [
       "succeeded",
       "failed",
       "last_trigger",
       "last_reload_ms"
      ]
     },
     "last_error": {
      "type": [
       "string",
       "null"
      ]
     },
     "last_error_at": {
      "type": [
       "string",
       "null"
      ]
     },
     "apis": {
      "type": "integer"
     },
     "routes": {
      "type": "integer"
     },
     "upstreams": {
      "type": "integer"
     },
     "call_log": {
      "type": "object",
      "properties": {
       "queued": {
        "type": "integer"
       },
       "written": {
        "type": "integer"
       },
       "dropped": {
        "type": "integer"
       }
      },
      "required": [
       "queued",
       "written",
       "dropped"
      ]
     },
     "limit_store": {
      "type": "object",
      "description": "Where rate limits are counted. For Redis: its URL without the password, the connections up, the protocol (3 or 2), since when decisions have failed over (null while Redis answers), the last error, the decisions made without Redis by on-store-failure rule, and the keys this node counts locally.",
      "properties": {
       "kind": {
        "type": "string",
        "enum": [
         "memory",
         "redis"
        ]
       },
       "url": {
        "type": "string"
       },
       "connected": {
        "type": "integer"
       },
       "connections": {
        "type": "integer"
       },
       "protocol": {
        "type": [
         "integer",
         "null"
        ]
       },
       "degraded_since": {
        "type": [
         "string",
         "null"
        ]
       },
       "last_error": {
        "type": [
         "string",
         "null"
        ]
       },
       "failed_over": {
        "type": "object",
        "properties": {
         "allow": {
          "type": "integer"
         },
         "deny": {
          "type": "integer"
         },
         "local": {
          "type": "integer"
         }
        }
       },
       "local_keys": {
        "type": "integer"
       }
      },
      "required": [
       "kind"
      ]
     }
    },
    "required": [
     "version",
     "config_file",
     "config_hash",
     "loaded_at",
     "reloads",
     "last_error",
     "last_error_at",
     "apis",
     "routes",
     "upstreams",
     "call_log"
    ]
   },
   "Reload": {
    "type": "object",
    "properties": {
     "result": {
      "type": "string",
      "enum": [
       "applied",
       "unchanged"
      ]
     },
     "config_hash": {
      "type": "string"
     },
     "reload_ms": {
      "type": "number"
     }
    },
    "required": [
     "result",
     "config_hash"
    ]
   },
   "Upstreams": {
    "type": "object",
    "properties": {
     "upstreams": {
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "name": {
         "type": "string"
        },
        "balance": {
         "type": "string"
        },
        "breaker": {
         "type": [
          "string",
          "null"
         ]
        },
        "targets": {
         "type": "array",
         "items": {
          "type": "object",
          "properties": {
           "url": {
            "type": "string"
           },
           "weight": {
            "type": "integer"
           },
           "healthy": {
            "type": "boolean"
           },
           "ejected": {
            "type": "boolean"
           },
           "drained": {
            "type": "boolean"
           },
           "breaker": {
            "type": [
             "string",
             "null"
            ]
           },
           "in_flight": {
            "type": "integer"
           },
           "requests": {
            "type": "integer"
           },
           "failures": {
            "type": "integer"
           },
           "error_rate": {
            "type": "number"
           },
           "last_latency_ms": {
            "type": [
             "number",
             "null"
            ]
           }
          },
          "required": [
           "url",
           "weight",
           "healthy",
           "ejected",
           "drained",
           "breaker",
           "in_flight",
           "requests",
           "failures",
           "error_rate",
           "last_latency_ms"
          ]
         }
        }
       },
       "required": [
        "name",
        "balance",
        "breaker",
        "targets"
       ]
      }
     }
    },
    "required": [
     "upstreams"
    ]
   },
   "Routes": {
    "type": "object",
    "properties": {
     "routes": {
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "api": {
         "type": "string"
        },
        "version": {
         "type": [
          "string",
          "null"
         ]
        },
        "name": {
         "type": "string"
        },
        "path": {
         "type": "string"
        },
        "methods": {
         "type": "array",
         "items": {
          "type": "string"
         }
        },
        "host": {
         "type": [
          "string",
          "null"
         ]
        },
        "upstream": {
         "type": "string"
        },
        "policies": {
         "type": "array",
         "items": {
          "type": "string"
         }
        }
       },
       "required": [
        "api",
        "version",
        "name",
        "path",
        "methods",
        "host",
        "upstream",
        "policies"
       ]
      }
     }
    },
    "required": [
     "routes"
    ]
   },
   "Usage": {
    "type": "object",
    "properties": {
     "time": {
      "type": "string",
      "format": "date-time"
     },
     "key": {
      "type": "string"
     },
     "count": {
      "type": "integer"
     },
     "errors": {
      "type": "integer"
     },
     "bytes_in": {
      "type": "integer"
     },
     "bytes_out": {
      "type": "integer"
     },
     "p50_ms": {
      "type": [
       "number",
       "null"
      ]
     },
     "p95_ms": {
      "type": [
       "number",
       "null"
      ]
     },
     "p99_ms": {
      "type": [
       "number",
       "null"
      ]
     },
     "upstream_p50_ms": {
      "type": [
       "number",
       "null"
      ]
     },
     "upstream_p95_ms": {
      "type": [
       "number",
       "null"
      ]
     },
     "upstream_p99_ms": {
      "type": [
       "number",
       "null"
      ]
     }
    },
    "required": [
     "count",
     "errors",
     "bytes_in",
     "bytes_out",
     "p50_ms",
     "p95_ms",
     "p99_ms"
    ]
   },
   "Call": {
    "type": "object",
    "properties": {
     "time": {
      "type": "string",
      "format": "date-time"
     },
     "request_id": {
      "type": "string"
     },
     "method": {
      "type": "string"
     },
     "path": {
      "type": "string"
     },
     "api": {
      "type": [
       "string",
       "null"
      ]
     },
     "version": {
      "type": [
       "string",
       "null"
      ]
     },
     "consumer": {
      "type": [
       "string",
       "null"
      ]
     },
     "route": {
      "type": [
       "string",
       "null"
      ]
     },
     "status": {
      "type": "integer"
     },
     "bytes_in": {
      "type": "integer"
     },
     "bytes_out": {
      "type": "integer"
     },
     "total_ms": {
      "type": "number"
     },
     "upstream_ms": {
      "type": [
       "number",
       "null"
      ]
     },
     "target": {
      "type": [
       "string",
       "null"
      ]
     },
     "client": {
      "type": [
       "string",
       "null"
      ]
     },
     "retries": {
      "type": "integer"
     },
     "key_prefix": {
      "type": [
       "string",
       "null"
      ]
     },
     "rate_limit": {
      "type": [
       "string",
       "null"
      ]
     },
     "cache": {
      "type": [
       "string",
       "null"
      ]
     },
     "trace_id": {
      "type": [
       "string",
       "null"
      ]
     },
     "protocol": {
      "description": "The HTTP version the client spoke, `1.1` or `2`; null in records written before it was kept.",
      "type": [
       "string",
       "null"
      ]
     },
     "validation": {
      "description": "Where the request or its response broke the OpenAPI contract (`request /query/limit: expected at most 100, found 500; …`); null when it kept to it or is not checked.",
      "type": [
       "string",
       "null"
      ]
     },
     "mirror": {
      "description": "The mirrored copy's outcome, `<status> <ms>ms` or `failed <reason>`; null when the call was not mirrored.",
      "type": [
       "string",
       "null"
      ]
     },
     "error": {
      "type": [
       "string",
       "null"
      ]
     },
     "backends": {
      "description": "A composite endpoint's backend calls (absent for other calls).",
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "name": {"type": "string", "description": "The call's name; a for-each element's is name[index]."},
        "target": {"type": ["string", "null"]},
        "status": {"type": "integer", "description": "The backend's status; 0 when it gave none."},
        "ms": {"type": "number"},
        "error": {"type": ["string", "null"]},
        "span_id": {"type": ["string", "null"]},
        "cache": {"type": ["string", "null"], "enum": ["hit", "miss", null]}
       },
       "required": ["name", "target", "status", "ms", "error", "span_id", "cache"]
      }
     }
    },
    "required": [
     "time",
     "request_id",
     "method",
     "path",
     "api",
     "version",
     "consumer",
     "route",
     "status",
     "bytes_in",
     "bytes_out",
     "total_ms",
     "upstream_ms",
     "target",
     "client",
     "retries",
     "key_prefix",
     "rate_limit",
     "cache",
     "trace_id",
     "mirror",
     "protocol",
     "validation",
     "error"
    ]
   },
   "Consumer": {
    "type": "object",
    "properties": {
     "name": {
      "type": "string"
     },
     "source": {
      "type": "string",
      "enum": [
       "config",
       "store"
      ]
     },
     "groups": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "plan": {
      "type": [
       "string",
       "null"
      ]
     },
     "scopes": {
      "type": "array",
      "items": {
       "type": "string"
      }
     },
     "has_password": {
      "type": "boolean"
     }
    },
    "required": [
     "name",
     "source",
     "groups",
     "plan",
     "scopes",
     "has_password"
    ]
   },
   "Key": {
    "type": "object",
    "properties": {
     "id": {
      "type": "integer"
     },
     "prefix": {
      "type": "string"
     },
     "status": {
      "type": "string",
      "enum": [
       "active",
       "expired",
       "revoked"
      ]
     },
     "created": {
      "type": "string",
      "format": "date-time"
     },
     "expires": {
      "type": [
       "string",
       "null"
      ]
     },
     "revoked": {
      "type": [
       "string",
       "null"
      ]
     },
     "last_used": {
      "type": [
       "string",
       "null"
      ]
     },
     "replaced_by": {
      "type": [
       "integer",
       "null"
      ]
     }
    },
    "required": [
     "id",
     "prefix",
     "status",
     "created",
     "expires",
     "revoked",
     "last_used",
     "replaced_by"
    ]
   },
   "LimitState": {
    "type": "object",
    "properties": {
     "policy": {
      "type": "string"
     },
     "quota": {
      "type": "integer"
     },
     "window_s": {
      "type": "integer"
     },
     "remaining": {
      "type": "integer"
     },
     "reset_s": {
      "type": "integer"
     }
    },
    "required": [
     "policy",
     "quota",
     "window_s",
     "remaining",
     "reset_s"
    ]
   },
   "CacheStatistics": {
    "type": "object",
    "properties": {
     "entries": {
      "type": "integer"
     },
     "bytes": {
      "type": "integer"
     },
     "budget": {
      "type": "integer"
     },
     "stores": {
      "type": "integer"
     },
     "evictions": {
      "type": "integer"
     }
    },
    "required": [
     "entries",
     "bytes",
     "budget",
     "stores",
     "evictions"
    ]
   },
   "CreatedKey": {
    "allOf": [
     {
      "$ref": "#/components/schemas/Key"
     },
     {
      "type": "object",
      "properties": {
       "key": {
        "type": "string",
        "description": "The key itself, shown this once."
       }
      },
      "required": [
       "key"
      ]
     }
    ]
   },
   "App": {
    "type": "object",
    "properties": {
     "id": {
      "type": "integer"
     },
     "name": {
      "type": "string"
     },
     "description": {
      "type": "string"
     },
     "status": {
      "type": "string",
      "enum": [
       "pending",
       "active",
       "rejected",
       "revoked"
      ]
     },
     "owner": {
      "type": "string",
      "description": "The developer's email."
     },
     "consumer": {
      "type": "string"
     },
     "created": {
      "type": "string",
      "format": "date-time"
     },
     "decided": {
      "type": [
       "string",
       "null"
      ],
      "format": "date-time"
     },
     "keys": {
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "id": {
         "type": "integer"
        },
        "prefix": {
         "type": "string"
        },
        "status": {
         "type": "string",
         "enum": [
          "active",
          "expired",
          "revoked"
         ]
        },
        "created": {
         "type": "string",
         "format": "date-time"
        },
        "expires": {
         "type": [
          "string",
          "null"
         ]
        },
        "last_used": {
         "type": [
          "string",
          "null"
         ]
        }
       },
       "required": [
        "id",
        "prefix",
        "status",
        "created",
        "expires",
        "last_used"
       ]
      }
     }
    },
    "required": [
     "id",
     "name",
     "description",
     "status",
     "owner",
     "consumer",
     "created",
     "decided",
     "keys"
    ]
   }
  }
 }
}
"""#
}
