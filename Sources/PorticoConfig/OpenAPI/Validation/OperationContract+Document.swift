extension OperationContract {
    /// One operation of a document: its path template, its upper-case method and its contract.
    package struct Declared: Sendable {
        package let path: String
        package let method: String
        package let contract: OperationContract
    }

    /// The contract of every operation in `document`, and the problems that leave a part of one
    /// unchecked (a bad pattern, a dangling `$ref`). The admin API checks its requests with these.
    package static func all(in document: OpenAPIDocument) -> (operations: [Declared], problems: [String]) {
        let compiler = SchemaCompiler(document: document)
        var operations: [Declared] = []
        for (path, item) in document.root["paths"]?.fields ?? [] {
            for method in OpenAPIImporter.methods where document.resolve(item)[method] != nil {
                if let contract = compile(path: path, method: method, document: document, compiler: compiler) {
                    operations.append(Declared(path: path, method: method.uppercased(), contract: contract))
                }
            }
        }
        return (operations, Array(Set(compiler.problems)).sorted())
    }
}
