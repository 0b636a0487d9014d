;; Row 28, which allocator the host uses: `malloc` before `proxy_on_memory_allocate`, on both
;; hosts. The filter logs the allocator whose memory the header value landed in.
(module
  (import "env" "proxy_get_header_map_value"
    (func $get_header (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "malloc") (param i32) (result i32) (i32.const 32768))
  (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 49152))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (drop (call $get_header (i32.const 0) (i32.const 16) (i32.const 5) (i32.const 1024) (i32.const 1028)))
    (if (i32.eq (i32.load (i32.const 1024)) (i32.const 32768))
      (then (drop (call $log (i32.const 2) (i32.const 32) (i32.const 6))))
      (else (drop (call $log (i32.const 2) (i32.const 48) (i32.const 24)))))
    (i32.const 0))
  (data (i32.const 16) ":path")
  (data (i32.const 32) "malloc")
  (data (i32.const 48) "proxy_on_memory_allocate"))
