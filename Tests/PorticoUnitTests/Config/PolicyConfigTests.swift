import PorticoConfig
import Testing

@Suite("Policy settings of an API and a route")
struct PolicyConfigTests {
    @Test("every setting of every group has an override rule, and the more specific level wins field by field")
    func override() {
        // A field added to a group without a rule in its `overrides` would be dropped by every route.
        func covered<Settings: PolicySettings>(_ type: Settings.Type) -> Bool {
            Mirror(reflecting: Settings()).children.count == Settings.overrideRuleCount
        }
        #expect(covered(PolicyConfig.self))
        #expect(covered(AccessSettings.self))
        #expect(covered(LimitSettings.self))
        #expect(covered(ForwardingSettings.self))
        #expect(covered(TransformSettings.self))
        #expect(covered(ValidationSettings.self))
        #expect(covered(UpgradeSettings.self))

        var api = PolicyConfig()
        api.forwarding.timeout = .seconds(30)
        api.access.scopes = ["read"]
        api.limits.cost = 2
        api.validation.validate = .report
        api.cors = CORSConfig()
        var route = PolicyConfig()
        route.access.scopes = ["write"]
        route.access.anonymous = "guest"
        route.validation.validate = .enforce
        let merged = api.overridden(by: route)
        #expect(merged.forwarding.timeout == .seconds(30))
        #expect(merged.limits.cost == 2)
        #expect(merged.access.scopes == ["write"])
        #expect(merged.access.anonymous == "guest")
        #expect(merged.validation.validate == .enforce)
        #expect(merged.cors == CORSConfig())
        #expect(route.overridden(by: PolicyConfig()) == route)
    }
}
