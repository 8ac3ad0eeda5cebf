import Foundation
import Synchronization
import Yams

/// The `portal` section.
extension ConfigLoader.Reader {
    func readPortal(_ node: ConfigNode) -> PortalConfig? {
        let keys: Set<String> = ["path", "title", "signup", "files", "plan", "session-lifetime", "host"]
        guard let fields = node.fields(allowed: keys, context: "portal") else { return nil }
        var portal = PortalConfig()
        if let pathNode = fields["path"], let text = pathNode.string(context: "portal.path") {
            guard let path = PathTemplate.normalizePrefix(text), path != "/" else {
                pathNode.report("portal.path must be a path like /portal, found '\(text)'")
                return nil
            }
            portal.path = path
        }
        if let title = fields["title"]?.string(context: "portal.title") { portal.title = title }
        if let hostNode = fields["host"], let host = hostNode.nonEmptyString(context: "portal.host") {
            if host.contains("/") || host.contains(":") || host.contains("*") || host.contains(" ") {
                hostNode.report("portal.host must be a host name like portal.example.com, found '\(host)'")
            } else {
                portal.host = host.lowercased()
            }
        }
        if let signupNode = fields["signup"], let text = signupNode.string(context: "portal.signup") {
            if let signup = PortalConfig.Signup(rawValue: text) {
                portal.signup = signup
            } else {
                signupNode.report("portal.signup must be open, approval or closed, found '\(text)'")
            }
        }
        if let filesNode = fields["files"], let text = filesNode.string(context: "portal.files") {
            let folder = ConfigLoader.absolute(text, relativeTo: self.folder)
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder + "/index.html", isDirectory: &isFolder),
                !isFolder.boolValue
            {
                portal.files = folder
            } else {
                filesNode.report("portal.files: no index.html in '\(text)' (resolved to \(folder))")
            }
        }
        if let plan = fields["plan"]?.string(context: "portal.plan") { portal.plan = plan }
        if let value = fields["session-lifetime"]?.duration(context: "portal.session-lifetime", atLeast: "1m") {
            portal.sessionLifetime = value
        }
        return portal
    }
}
