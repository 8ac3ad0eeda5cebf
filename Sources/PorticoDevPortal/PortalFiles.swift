import Crypto
internal import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PorticoConfig
import PorticoGateway

/// The portal's static pages: the ones built into the binary (`Pages/`, embedded as package
/// resources), or the folder `portal.files` names instead, read into memory with each config.
///
/// Only the folder's own files are served (no subfolders, no dot files), each with an `ETag`
/// and `Cache-Control: no-cache`, so a browser revalidates and gets 304 until the files change.
/// Pages carry a Content-Security-Policy that allows the portal's own scripts and styles only:
/// even if text from an OpenAPI document slipped into the page as markup, no script of it would run.
struct PortalFiles: Sendable {
    struct File: Sendable {
        var body: ByteBuffer
        var contentType: String
        var etag: String
    }

    let files: [String: File]

    static let types = [
        "html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8",
        "svg": "image/svg+xml", "ico": "image/x-icon", "png": "image/png", "json": "application/json",
        "txt": "text/plain; charset=utf-8",
    ]
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

    /// The pages built into the binary. SwiftPM names each embedded file by its name with the dot
    /// as `_`, so a page added to `Pages/` is listed here too.
    static let embedded = PortalFiles(contents: [
        "index.html": PackageResources.index_html, "portal.js": PackageResources.portal_js,
        "account.js": PackageResources.account_js, "portal.css": PackageResources.portal_css,
    ])

    /// The files of `folder` (a customised copy of `Pages/`).
    init(folder: String) {
        var contents: [String: [UInt8]] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in names where !name.hasPrefix(".") {
            guard let data = FileManager.default.contents(atPath: folder + "/" + name) else { continue }
            contents[name] = Array(data)
        }
        self.init(contents: contents)
    }

    /// Files by name; a name without a known type is left out.
    init(contents: [String: [UInt8]]) {
        var files: [String: File] = [:]
        for (name, bytes) in contents {
            let ext = (name as NSString).pathExtension.lowercased()
            guard let type = Self.types[ext] else { continue }
            let digest = SHA256.hash(data: bytes).prefix(8).map { String(format: "%02x", $0) }.joined()
            files[name] = File(body: ByteBuffer(bytes: bytes), contentType: type, etag: "\"\(digest)\"")
        }
        self.files = files
    }

    /// The file for `name` (`""` is `index.html`), or nil.
    func response(for name: String, request: Request, requestID: String, requestIDHeader: HTTPField.Name) -> Response? {
        guard let file = files[name.isEmpty ? "index.html" : name] else { return nil }
        var headers: HTTPFields = [
            .contentType: file.contentType, .eTag: file.etag, .cacheControl: "no-cache", requestIDHeader: requestID,
            HTTPField.Name("X-Content-Type-Options")!: "nosniff", HTTPField.Name("Referrer-Policy")!: "same-origin",
        ]
        if file.contentType.hasPrefix("text/html") {
            headers[HTTPField.Name("Content-Security-Policy")!] = Self.contentSecurityPolicy
        }
        if let sent = request.headers[.ifNoneMatch],
            sent.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == file.etag })
        {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentLength] = String(file.body.readableBytes)
        let body = request.method == .head ? ByteBuffer() : file.body
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }
}
