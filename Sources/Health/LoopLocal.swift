import NIOCore
import Synchronization

/// One value per event loop, made on first use. It keeps the loop, so that no other loop object
/// ever takes the identity a value is filed under.
final class LoopLocal<Value: AnyObject & Sendable>: Sendable {
    private let values = Mutex<[ObjectIdentifier: (loop: any EventLoop, value: Value)]>([:])
    private let make: @Sendable (any EventLoop) -> Value

    init(_ make: @escaping @Sendable (any EventLoop) -> Value) { self.make = make }

    func callAsFunction(_ loop: any EventLoop) -> Value {
        values.withLock { values in
            let id = ObjectIdentifier(loop)
            if let v = values[id] { return v.value }
            let v = make(loop)
            values[id] = (loop, v)
            return v
        }
    }
}
