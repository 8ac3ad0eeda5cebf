import PorticoConfig
import Testing

@Suite("Policy settings of an API and a route")
struct PolicyConfigTests {
    @Test("every setting has an override rule, and the more specific level wins field by field")
    func override() {
        // A field added to PolicyConfig without a rule in `fields` would be dropped by every route.
        #expect(Mirror(reflecting: PolicyConfig()).children.count == PolicyConfig.overrideRuleCount)
        let api = PolicyConfig(timeout: .seconds(30), scopes: ["read"], cost: 2, validate: .report)
        let route = PolicyConfig(scopes: ["write"], validate: .enforce)
        let merged = api.overridden(by: route)
        #expect(merged.timeout == .seconds(30))
        #expect(merged.cost == 2)
        #expect(merged.scopes == ["write"])
        #expect(merged.validate == .enforce)
        #expect(route.overridden(by: PolicyConfig()) == route)
    }
}
