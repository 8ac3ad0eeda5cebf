/// A dictionary of at most `capacity` entries that drops the least recently used one to make room.
///
/// Entries live in an array linked in use order (no allocation per lookup); reading an entry
/// moves it to the front. Not thread-safe: its owner keeps it behind a lock.
struct LRUTable<Key: Hashable, Value> {
    let capacity: Int
    private var slots: [Slot] = []
    private var index: [Key: Int] = [:]
    /// The most and the least recently used slot; -1 when empty.
    private var head = -1
    private var tail = -1

    struct Slot {
        var key: Key
        var value: Value
        var previous: Int
        var next: Int
    }

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    var count: Int { index.count }

    subscript(key: Key) -> Value? {
        mutating get {
            guard let slot = index[key] else { return nil }
            moveToFront(slot)
            return slots[slot].value
        }
        set {
            if let newValue { insert(key, newValue) } else { remove(key) }
        }
    }

    /// The value without marking it used.
    func peek(_ key: Key) -> Value? { index[key].map { slots[$0].value } }

    mutating func removeAll() {
        slots.removeAll()
        index.removeAll()
        head = -1
        tail = -1
    }

    private mutating func insert(_ key: Key, _ value: Value) {
        if let slot = index[key] {
            slots[slot].value = value
            moveToFront(slot)
            return
        }
        let slot: Int
        if index.count >= capacity {
            // Reuse the least recently used slot.
            slot = tail
            index[slots[slot].key] = nil
            unlink(slot)
            slots[slot] = Slot(key: key, value: value, previous: -1, next: -1)
        } else {
            slot = slots.count
            slots.append(Slot(key: key, value: value, previous: -1, next: -1))
        }
        index[key] = slot
        linkAtFront(slot)
    }

    private mutating func remove(_ key: Key) {
        guard let slot = index.removeValue(forKey: key) else { return }
        unlink(slot)
        let last = slots.count - 1
        if slot != last {
            // Move the last slot into the hole, keeping the array dense.
            let moved = slots[last]
            slots[slot] = moved
            index[moved.key] = slot
            if moved.previous >= 0 { slots[moved.previous].next = slot } else { head = slot }
            if moved.next >= 0 { slots[moved.next].previous = slot } else { tail = slot }
        }
        slots.removeLast()
    }

    private mutating func moveToFront(_ slot: Int) {
        guard slot != head else { return }
        unlink(slot)
        linkAtFront(slot)
    }

    private mutating func unlink(_ slot: Int) {
        let previous = slots[slot].previous, next = slots[slot].next
        if previous >= 0 { slots[previous].next = next } else if head == slot { head = next }
        if next >= 0 { slots[next].previous = previous } else if tail == slot { tail = previous }
        slots[slot].previous = -1
        slots[slot].next = -1
    }

    private mutating func linkAtFront(_ slot: Int) {
        slots[slot].next = head
        slots[slot].previous = -1
        if head >= 0 { slots[head].previous = slot }
        head = slot
        if tail < 0 { tail = slot }
    }
}

extension LRUTable: Sendable where Key: Sendable, Value: Sendable {}
extension LRUTable.Slot: Sendable where Key: Sendable, Value: Sendable {}
