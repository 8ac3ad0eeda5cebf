import ArgumentParser
import Foundation
import Logging
import PorticoAdmin
import PorticoApp
import PorticoConfig
import PorticoGateway
import ServiceLifecycle

@main
struct Portico: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portico",
        abstract: "An API gateway: routes, policies and a developer portal from YAML and OpenAPI.",
        version: PorticoVersion.current,
        subcommands: [Serve.self, Validate.self, Analytics.self, Logs.self, Consumers.self, Keys.self]
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the gateway until SIGINT or SIGTERM, then drain in-flight requests and exit."
    )

    @Option(name: .shortAndLong, help: "The gateway config file.")
    var config: String = "config/gateway.yaml"

    @Option(
        help:
            "Log level: trace, debug, info, notice, warning, error or critical (default: PORTICO_LOG_LEVEL, else the config's server.log-level, else info)."
    )
    var logLevel: Logger.Level?

    func run() async throws {
        let loaded: GatewayConfig
        do {
            loaded = try ConfigLoader().load(file: config)
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(1)
        }
        let level = JSONLogHandler.level(
            flag: logLevel, environment: ProcessInfo.processInfo.environment, config: loaded.server.logLevel)
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
        let logger = Logger(label: "portico")
        for warning in loaded.warnings { logger.warning("config warning", metadata: ["config.warning": "\(warning)"]) }
        let app = try PorticoApp(config: loaded, configPath: config, logger: logger)
        var groupConfiguration = ServiceGroupConfiguration(
            services: app.services(reloadOnSIGHUP: true),
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        groupConfiguration.maximumGracefulShutdownDuration = loaded.server.drainTimeout.duration
        groupConfiguration.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: groupConfiguration).run()
        logger.info("portico stopped")
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a config and its OpenAPI documents without starting anything.",
        discussion: "Prints OK and exits 0, or prints one file:line:column: message line per problem and exits 1."
    )

    @Argument(help: "The gateway config file.")
    var file: String

    func run() throws {
        do {
            let config = try ConfigLoader().load(file: file)
            for warning in config.warnings {
                print("\(warning.file):\(warning.line):\(warning.column): warning: \(warning.message)")
            }
            print("OK")
        } catch {
            print(error.description)
            throw ExitCode(1)
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
