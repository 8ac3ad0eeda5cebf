import HTTPTypes

extension HTTPFields {
    /// The first value of `name`, or nil. HTTPTypes' subscript joins every line of the name into
    /// one string, which costs an iterator and often a copy; the fast policies ask of single-line
    /// fields (`Origin`, `Vary`) on every request.
    func firstValue(_ name: HTTPField.Name) -> String? {
        for field in self where field.name == name { return field.value }
        return nil
    }

}
