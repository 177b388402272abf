import LodeEngine
import XCTest
@testable import LodeMetrics

final class MetricsExporterTests: XCTestCase {
    private func render(_ m: ServerMetrics, _ exporter: MetricsExporter = MetricsExporter()) -> String {
        String(decoding: exporter.render(m), as: UTF8.self)
    }

    func testNamesTypesAndLabelsFollowRedisExporter() {
        var m = ServerMetrics()
        m.commandsProcessed = 42
        m.databases = [(db: 0, keys: 10, expires: 2)]
        m.commands = [.init(name: "client|list", calls: 3, microseconds: 1_500_000, failed: 1, rejected: 0)]
        m.errors = [(code: "WRONGTYPE", count: 4)]
        m.cacheHits = 3
        m.cacheMisses = 1
        let text = render(m)
        XCTAssertTrue(text.contains("# TYPE redis_commands_processed_total counter\nredis_commands_processed_total 42\n"), text)
        XCTAssertTrue(text.contains(#"redis_db_keys{db="db0"} 10.0"#), text)
        XCTAssertTrue(text.contains(#"redis_commands_total{cmd="client|list"} 3"#), text)
        XCTAssertTrue(text.contains(#"redis_commands_duration_seconds_total{cmd="client|list"} 1.5"#), text)
        XCTAssertTrue(text.contains(#"redis_errors_total{err="WRONGTYPE"} 4"#), text)
        XCTAssertTrue(text.contains("lode_cache_hit_ratio 0.75\n"), text)
    }

    func testFsyncHistogramAccumulatesAcrossScrapes() {
        let exporter = MetricsExporter()
        exporter.fsyncDuration.record(.milliseconds(3))
        exporter.fsyncDuration.record(.microseconds(50))
        XCTAssertTrue(render(ServerMetrics(), exporter).contains("lode_fsync_duration_seconds_count 2\n"))
        exporter.fsyncDuration.record(.seconds(2))
        let text = render(ServerMetrics(), exporter)
        XCTAssertTrue(text.contains("lode_fsync_duration_seconds_count 3\n"), text)
        XCTAssertTrue(text.contains(#"lode_fsync_duration_seconds_bucket{le="0.0001"} 1"#), text)
        XCTAssertTrue(text.contains(#"lode_fsync_duration_seconds_bucket{le="+Inf"} 3"#), text)
    }
}
