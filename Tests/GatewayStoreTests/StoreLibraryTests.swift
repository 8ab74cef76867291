import GatewayStore
import Testing

@Suite("Store library")
struct StoreLibraryTests {
    @Test("the linked SQLite is version 3")
    func version() { #expect(StoreLibrary.version.hasPrefix("3.")) }
}
