;; Row 23, the tick period set twice. Envoy changes it; nginx traps on the second non-zero set.
(module
  (import "env" "proxy_set_tick_period_milliseconds" (func $set_tick (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (drop (call $set_tick (i32.const 10)))
    (drop (call $set_tick (i32.const 20)))
    (i32.const 1))
  (func (export "proxy_on_tick") (param i32)))
