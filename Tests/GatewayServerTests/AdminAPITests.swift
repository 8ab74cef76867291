import Glibc
import GatewayCore
import GatewayHTTP
import GatewayStore
import Testing

@testable import GatewayServer

/// The admin API's routing, validation, paging and audit against a real SQLite file, without
/// sockets (SPEC §11).
@Suite("Admin API")
struct AdminAPITests {
    /// A fresh store in a temporary directory, removed afterwards.
    final class Harness {
        let directory: String
        let store: KeyStore

        init() throws {
            var template = Array("/tmp/gw-admin-test-XXXXXX".utf8CString)
            let made = try #require(mkdtemp(&template))
            directory = String(cString: made)
            store = try KeyStore(path: directory + "/store.db")
        }

        deinit {
            store.close()
            for suffix in ["", "-wal", "-shm"] { unlink(directory + "/store.db" + suffix) }
            rmdir(directory)
        }

        func call(_ method: HTTPMethod, _ path: String, query: String = "", _ body: String = "") throws -> (status: Int, json: String) {
            let request = AdminRequest(
                method: method, path: path, query: Array(query.utf8), body: Array(body.utf8), actor: "api_key:test", keyPrefix: "gw_",
                requestID: "req-1")
            let response = try AdminAPI.handle(request, store: store)
            return (response.status, String(decoding: response.body, as: UTF8.self))
        }
    }

    @Test("principals: create, read, patch (null clears), list, delete revokes the keys")
    func principals() throws {
        let h = try Harness()
        #expect(try h.call(.post, "/admin/principals", #"{"id":"agent-1","name":"Agent","org_id":"acme"}"#).status == 201)
        #expect(try h.call(.post, "/admin/principals", #"{"id":"agent-1"}"#).status == 409)
        #expect(try h.call(.patch, "/admin/principals/agent-1", #"{"org_id":null,"email":"a@example.com"}"#).json
            .contains(#""org_id":null,"email":"a@example.com""#))
        let key = try h.call(.post, "/admin/principals/agent-1/keys", #"{"name":"k","permissions":["memory:read"]}"#)
        #expect(key.status == 201 && key.json.contains(#""key":"gw_"#))
        #expect(try h.call(.get, "/admin/principals").json.contains(#""id":"agent-1""#))
        #expect(try h.call(.delete, "/admin/principals/agent-1").json.contains(#""keys_revoked":1"#))
        #expect(try h.call(.get, "/admin/principals/agent-1").status == 404)
        #expect(try h.call(.post, "/admin/principals/agent-1/keys", #"{"name":"k"}"#).status == 404)
    }

    @Test("keys: listings never carry a secret; patch, rotate and revoke; a revoked key is gone for good")
    func keys() throws {
        let h = try Harness()
        _ = try h.call(.post, "/admin/principals", #"{"id":"agent-2"}"#)
        let created = try h.call(.post, "/admin/principals/agent-2/keys", #"{"name":"k","rate_limit":"10/min burst=5"}"#).json
        let id = try #require(created.split(separator: "\"").dropFirst(3).first.map(String.init))
        let listed = try h.call(.get, "/admin/keys").json
        #expect(listed.contains(id) && !listed.contains(#""key":"#) && !listed.contains("sha256"))
        #expect(try h.call(.patch, "/admin/keys/\(id)", #"{"roles":["reader"],"rate_limit":null}"#).json
            .contains(#""roles":["reader"],"rate_limit":null"#))
        #expect(try h.call(.post, "/admin/keys/\(id)/rotate", #"{"grace_seconds":60}"#).status == 201)
        #expect(try h.call(.delete, "/admin/keys/\(id)").status == 200)
        for (method, body) in [(HTTPMethod.get, ""), (.patch, #"{"active":true}"#), (.delete, ""), (.post, "")] {
            let path = method == .post ? "/admin/keys/\(id)/rotate" : "/admin/keys/\(id)"
            #expect(try h.call(method, path, body).status == 404)
        }
    }

    @Test("refusals: unknown members, wrong types, unsafe identity values, bad paging, unknown paths", arguments: [
        (HTTPMethod.post, "/admin/principals", "", #"{"id":"a","admin":true}"#),
        (.post, "/admin/principals", "", #"{"id":"."}"#),
        (.post, "/admin/principals", "", #"{"id":"a b"}"#),
        (.post, "/admin/principals", "", #"{"id":"a","name":" padded"}"#),
        (.post, "/admin/principals", "", #"{"id":"a","name":5}"#),
        (.post, "/admin/principals", "", "[1]"),
        (.post, "/admin/principals", "", #"{"id":"a","id":"b"}"#),
        (.get, "/admin/keys", "limit=0", ""),
        (.get, "/admin/keys", "limit=5&limit=6", ""),
        (.get, "/admin/keys", "cursor=", ""),
        (.get, "/admin/keys", "sort=id", ""),
        (.get, "/admin/audit", "kind=DROP%20TABLE", ""),
        (.post, "/admin/revocations", "", #"{"jti":"x","principal_id":"y"}"#),
        (.post, "/admin/revocations", "", "{}"),
    ])
    func refusals(_ method: HTTPMethod, _ path: String, _ query: String, _ body: String) throws {
        let h = try Harness()
        let (status, json) = try h.call(method, path, query: query, body)
        #expect(status == 400)
        #expect(json.hasPrefix(#"{"error":"invalid_request","error_description":"#) && json.hasSuffix(#""request_id":"req-1"}"#))
    }

    @Test("a method a path does not take is 405 with Allow; an unknown path is 404")
    func methods() throws {
        let h = try Harness()
        let request = AdminRequest(method: .put, path: "/admin/keys", query: [], body: [], actor: "", keyPrefix: "gw_")
        let response = try AdminAPI.handle(request, store: h.store)
        #expect(response.status == 405 && response.allow == [MethodSet(.get), MethodSet(.head)])
        #expect(try h.call(.get, "/admin/nothing").status == 404)
    }

    @Test("listings page by cursor; every change is audited with its actor, newest first")
    func pagingAndAudit() throws {
        let h = try Harness()
        for n in 1...3 { _ = try h.call(.post, "/admin/principals", #"{"id":"p\#(n)"}"#) }
        let first = try h.call(.get, "/admin/principals", query: "limit=2").json
        #expect(first.contains(#""id":"p1""#) && first.contains(#""next_cursor":"p2""#))
        let second = try h.call(.get, "/admin/principals", query: "limit=2&cursor=p2").json
        #expect(second.contains(#""id":"p3""#) && second.contains(#""next_cursor":null"#))
        let audit = try h.call(.get, "/admin/audit", query: "kind=admin_principal_create&limit=1").json
        #expect(audit.contains(#""principal_id":"p3""#) && audit.contains(#""actor":"api_key:test""#))
        #expect(audit.contains(#""next_cursor":""#))
    }

    @Test("revocations: a jti until its expiry, or a principal's tokens issued before a time, reach the index")
    func revocations() throws {
        let h = try Harness()
        #expect(try h.call(.post, "/admin/revocations", #"{"jti":"t-1","expires_at":4102444800}"#).status == 201)
        #expect(try h.call(.post, "/admin/revocations", #"{"principal_id":"agent-3","issued_before":1800000000}"#).status == 201)
        let index = APIKeyIndex(snapshot: try h.store.loadIndexSnapshot())
        #expect(index.isTokenRevoked("t-1"))
        #expect(index.tokensRevokedBefore(principal: "agent-3") == 1_800_000_000)
    }
}
