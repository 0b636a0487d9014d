(module
  (type (;0;) (func (param i32 i32 i32) (result i32)))
  (type (;1;) (func (param i32) (result i32)))
  (type (;2;) (func (result i32)))
  (type (;3;) (func (param i32 i32 i32 i32 i32) (result i32)))
  (type (;4;) (func (param i32 i32) (result i32)))
  (type (;5;) (func (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (type (;6;) (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (type (;7;) (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (type (;8;) (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (type (;9;) (func (param i32 i32 i32 i32) (result i32)))
  (type (;10;) (func (param i32 i64) (result i32)))
  (type (;11;) (func (param i32 i32 i32 i32 i32 i32) (result i32)))
  (type (;12;) (func (param i32 i64 i32) (result i32)))
  (type (;13;) (func (param i32)))
  (type (;14;) (func))
  (type (;15;) (func (param i32) (result i32)))
  (type (;16;) (func (param i32 i32)))
  (type (;17;) (func (param i32 i32) (result i32)))
  (type (;18;) (func (param i32 i32) (result i32)))
  (type (;19;) (func (param i32)))
  (type (;20;) (func (param i32 i32)))
  (type (;21;) (func (param i32 i32 i32) (result i32)))
  (type (;22;) (func (param i32 i32 i32) (result i32)))
  (type (;23;) (func (param i32 i32) (result i32)))
  (type (;24;) (func (param i32 i32 i32) (result i32)))
  (type (;25;) (func (param i32 i32 i32) (result i32)))
  (type (;26;) (func (param i32 i32) (result i32)))
  (type (;27;) (func (param i32 i32 i32 i32 i32)))
  (type (;28;) (func (param i32)))
  (type (;29;) (func (param i32) (result i32)))
  (type (;30;) (func (param i32)))
  (import "env" "proxy_log" (func (;0;) (type 0) (param i32 i32 i32) (result i32)))
  (import "env" "proxy_set_tick_period_milliseconds" (func (;1;) (type 1) (param i32) (result i32)))
  (import "env" "proxy_done" (func (;2;) (type 2) (result i32)))
  (import "env" "proxy_set_effective_context" (func (;3;) (type 1) (param i32) (result i32)))
  (import "env" "proxy_get_buffer_bytes" (func (;4;) (type 3) (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_buffer_bytes" (func (;5;) (type 3) (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_pairs" (func (;6;) (type 0) (param i32 i32 i32) (result i32)))
  (import "env" "proxy_set_header_map_pairs" (func (;7;) (type 0) (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_value" (func (;8;) (type 3) (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value" (func (;9;) (type 3) (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_replace_header_map_value" (func (;10;) (type 3) (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_send_local_response" (func (;11;) (type 5) (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_grpc_call" (func (;12;) (type 7) (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_grpc_stream" (func (;13;) (type 8) (param i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_shared_data" (func (;14;) (type 3) (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_register_shared_queue" (func (;15;) (type 0) (param i32 i32 i32) (result i32)))
  (import "env" "proxy_resolve_shared_queue" (func (;16;) (type 3) (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_record_metric" (func (;17;) (type 10) (param i32 i64) (result i32)))
  (import "env" "proxy_get_property" (func (;18;) (type 9) (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_call_foreign_function" (func (;19;) (type 11) (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func (;20;) (type 12) (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func (;21;) (type 4) (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func (;22;) (type 4) (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func (;23;) (type 4) (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func (;24;) (type 13) (param i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func (;25;) (type 2) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func (;26;) (type 9) (param i32 i32 i32 i32) (result i32)))
  (table (;0;) 230 405 externref)
  (table (;1;) 1 857 externref)
  (table (;2;) 1 361 externref)
  (table (;3;) 450 777 funcref)
  (memory (;0;) 1 4)
  (global (;0;) (mut i32) i32.const 0)
  (global (;1;) (mut i64) i64.const 0)
  (global (;2;) (mut i32) i32.const 1000)
  (export "memory" (memory 0))
  (export "_initialize" (func 30))
  (export "proxy_on_memory_allocate" (func 31))
  (export "proxy_on_context_create" (func 32))
  (export "proxy_on_vm_start" (func 33))
  (export "proxy_on_configure" (func 34))
  (export "proxy_on_tick" (func 35))
  (export "proxy_on_queue_ready" (func 36))
  (export "proxy_on_request_headers" (func 37))
  (export "proxy_on_request_body" (func 38))
  (export "proxy_on_request_trailers" (func 39))
  (export "proxy_on_response_headers" (func 40))
  (export "proxy_on_response_body" (func 41))
  (export "proxy_on_response_trailers" (func 42))
  (export "proxy_on_http_call_response" (func 43))
  (export "proxy_on_log" (func 44))
  (export "proxy_on_done" (func 45))
  (export "proxy_on_delete" (func 46))
  (func (;27;) (type 1) (param i32) (result i32)
    (local i32 i64 i32 i64 i32 i64)
    global.get 2
    i32.eqz
    if ;; label = @1
      unreachable
    end
    global.get 2
    i32.const 1
    i32.sub
    global.set 2
    nop
    memory.size
    block (type 29) (param i32) (result i32) ;; label = @1
    end
    local.set 1
    block ;; label = @1
      block ;; label = @2
        memory.size
        i32.const 65536
        i32.mul
        i32.const 47585
        local.get 1
        i32.add
        i32.le_u
        br_if 0 (;@2;)
        local.get 1
        i32.const 0
        i32.le_s
        br_if 0 (;@2;)
        local.get 1
        i64.load8_s offset=47577
        local.set 2
        br 1 (;@1;)
      end
      i64.const 0
      local.set 2
    end
    local.get 2
    block ;; label = @1
      br 0 (;@1;)
      block (type 2) (result i32) ;; label = @2
        block ;; label = @3
          block ;; label = @4
            nop
            call 30
            br 3 (;@1;)
          end
          memory.size
          br_table 0 (;@3;) 2 (;@1;) 0 (;@3;)
        end
        block (type 2) (result i32) ;; label = @3
          br 2 (;@1;)
          block ;; label = @4
            return_call 25
            local.set 3
            block ;; label = @5
              block ;; label = @6
                memory.size
                i32.const 65536
                i32.mul
                i32.const 14612
                local.get 3
                i32.add
                i32.le_u
                br_if 0 (;@6;)
                local.get 3
                i32.const 0
                i32.le_s
                br_if 0 (;@6;)
                local.get 3
                i64.load32_s offset=14604 align=1
                local.set 4
                br 1 (;@5;)
              end
              i64.const 0
              local.set 4
            end
            local.get 4
            block ;; label = @5
              block (result externref) ;; label = @6
                br 5 (;@1;)
                loop (type 2) (result i32) ;; label = @7
                  global.get 2
                  i32.eqz
                  if ;; label = @8
                    unreachable
                  end
                  global.get 2
                  i32.const 1
                  i32.sub
                  global.set 2
                  memory.size
                  local.set 5
                  block ;; label = @8
                    block ;; label = @9
                      memory.size
                      i32.const 65536
                      i32.mul
                      i32.const 55693
                      local.get 5
                      i32.add
                      i32.le_u
                      br_if 0 (;@9;)
                      local.get 5
                      i32.const 0
                      i32.le_s
                      br_if 0 (;@9;)
                      local.get 5
                      i64.load32_s offset=55685 align=2
                      local.set 6
                      br 1 (;@8;)
                    end
                    i64.const 0
                    local.set 6
                  end
                  local.get 6
                  call 2
                  call 44
                  memory.size
                  call 3
                  block (result i64) ;; label = @8
                    block (type 14) ;; label = @9
                    end
                    call 29
                    global.get 0
                    i32.xor
                    global.set 0
                    i64.const 8486890541309797569
                  end
                  global.get 1
                  i64.xor
                  global.set 1
                  global.get 0
                  i32.xor
                  global.set 0
                  global.get 1
                  i64.xor
                  global.set 1
                  i32.const 2048
                end
                global.get 0
                i32.xor
                global.set 0
                ref.null extern
              end
              drop
            end
            global.get 1
            i64.xor
            global.set 1
          end
          i32.const 65534
        end
      end
      global.get 0
      i32.xor
      global.set 0
    end
    global.get 1
    i64.xor
    global.set 1
    i32.const 33554431
  )
  (func (;28;) (type 0) (param i32 i32 i32) (result i32)
    (local f32 i32 i64 i32 i64)
    global.get 2
    i32.eqz
    if ;; label = @1
      unreachable
    end
    global.get 2
    i32.const 1
    i32.sub
    global.set 2
    return_call 29
    local.set 4
    block ;; label = @1
      block ;; label = @2
        memory.size
        i32.const 65536
        i32.mul
        i32.const 21011
        local.get 4
        i32.add
        i32.le_u
        br_if 0 (;@2;)
        local.get 4
        i32.const 0
        i32.le_s
        br_if 0 (;@2;)
        local.get 4
        i64.load8_s offset=21003
        local.set 5
        br 1 (;@1;)
      end
      i64.const 0
      local.set 5
    end
    local.get 5
    nop
    block (result externref) ;; label = @1
      return_call 2
      local.set 6
      block ;; label = @2
        block ;; label = @3
          memory.size
          i32.const 65536
          i32.mul
          i32.const 56001
          local.get 6
          i32.add
          i32.le_u
          br_if 0 (;@3;)
          local.get 6
          i32.const 0
          i32.le_s
          br_if 0 (;@3;)
          local.get 6
          i64.load32_u offset=55993 align=1
          local.set 7
          br 1 (;@2;)
        end
        i64.const 0
        local.set 7
      end
      local.get 7
      loop (type 2) (result i32) ;; label = @2
        global.get 2
        i32.eqz
        if ;; label = @3
          unreachable
        end
        global.get 2
        i32.const 1
        i32.sub
        global.set 2
        block (type 14) ;; label = @3
          br 1 (;@2;)
          memory.size
          global.get 0
          i32.xor
          global.set 0
        end
        i32.const 2
      end
      global.get 0
      i32.xor
      global.set 0
      global.get 1
      i64.xor
      global.set 1
      ref.null extern
    end
    drop
    global.get 1
    i64.xor
    global.set 1
    i32.const -2097152
  )
  (func (;29;) (type 2) (result i32)
    (local f32 f64 f32 i32 f32 i32 i64 i32 i32 i32 i64 i32 i32 i32 i64 i32 i32 i32 i64 i32 i32)
    global.get 2
    i32.eqz
    if ;; label = @1
      unreachable
    end
    global.get 2
    i32.const 1
    i32.sub
    global.set 2
    nop
    return_call 29
    local.set 5
    block ;; label = @1
      block ;; label = @2
        memory.size
        i32.const 65536
        i32.mul
        i32.const 55157
        local.get 5
        i32.add
        i32.le_u
        br_if 0 (;@2;)
        local.get 5
        i32.const 0
        i32.le_s
        br_if 0 (;@2;)
        local.get 5
        i64.load32_u offset=55149 align=1
        local.set 6
        br 1 (;@1;)
      end
      i64.const 0
      local.set 6
    end
    local.get 6
    call 2
    nop
    local.set 7
    block ;; label = @1
      block ;; label = @2
        memory.size
        i32.const 65536
        i32.mul
        i32.const 5605
        local.get 7
        i32.add
        i32.le_u
        br_if 0 (;@2;)
        local.get 7
        i32.const 0
        i32.le_s
        br_if 0 (;@2;)
        local.get 7
        i32.load8_s offset=5601
        local.set 8
        br 1 (;@1;)
      end
      i32.const 0
      local.set 8
    end
    local.get 8
    local.set 9
    block ;; label = @1
      block ;; label = @2
        memory.size
        i32.const 65536
        i32.mul
        i32.const 34221
        local.get 9
        i32.add
        i32.le_u
        br_if 0 (;@2;)
        local.get 9
        i32.const 0
        i32.le_s
        br_if 0 (;@2;)
        local.get 9
        i64.load16_s offset=34213
        local.set 10
        br 1 (;@1;)
      end
      i64.const 0
      local.set 10
    end
    local.get 10
    memory.size
    local.set 11
    block ;; label = @1
      block ;; label = @2
        memory.size
        i32.const 65536
        i32.mul
        i32.const 44478
        local.get 11
        i32.add
        i32.le_u
        br_if 0 (;@2;)
        local.get 11
        i32.const 0
        i32.le_s
        br_if 0 (;@2;)
        local.get 11
        i32.load8_s offset=44474
        local.set 12
        br 1 (;@1;)
      end
      i32.const 0
      local.set 12
    end
    local.get 12
    if (type 2) (result i32) ;; label = @1
      memory.size
      local.set 13
      block ;; label = @2
        block ;; label = @3
          memory.size
          i32.const 65536
          i32.mul
          i32.const 35283
          local.get 13
          i32.add
          i32.le_u
          br_if 0 (;@3;)
          local.get 13
          i32.const 0
          i32.le_s
          br_if 0 (;@3;)
          local.get 13
          i64.load16_s offset=35275
          local.set 14
          br 1 (;@2;)
        end
        i64.const 0
        local.set 14
      end
      local.get 14
      block (type 14) ;; label = @2
      end
      return_call 29
      local.set 15
      block ;; label = @2
        block ;; label = @3
          memory.size
          i32.const 65536
          i32.mul
          i32.const 30274
          local.get 15
          i32.add
          i32.le_u
          br_if 0 (;@3;)
          local.get 15
          i32.const 0
          i32.le_s
          br_if 0 (;@3;)
          local.get 15
          i32.load8_s offset=30270
          local.set 16
          br 1 (;@2;)
        end
        i32.const 0
        local.set 16
      end
      local.get 16
      loop (type 15) (param i32) (result i32) ;; label = @2
        global.get 2
        i32.eqz
        if ;; label = @3
          unreachable
        end
        global.get 2
        i32.const 1
        i32.sub
        global.set 2
      end
      block (type 13) (param i32) ;; label = @2
        local.set 17
        block ;; label = @3
          block ;; label = @4
            memory.size
            i32.const 65536
            i32.mul
            i32.const 23712
            local.get 17
            i32.add
            i32.le_u
            br_if 0 (;@4;)
            local.get 17
            i32.const 0
            i32.le_s
            br_if 0 (;@4;)
            local.get 17
            i64.load8_s offset=23704
            local.set 18
            br 1 (;@3;)
          end
          i64.const 0
          local.set 18
        end
        local.get 18
        memory.size
        local.set 19
        block ;; label = @3
          block ;; label = @4
            memory.size
            i32.const 65536
            i32.mul
            i32.const 57302
            local.get 19
            i32.add
            i32.le_u
            br_if 0 (;@4;)
            local.get 19
            i32.const 0
            i32.le_s
            br_if 0 (;@4;)
            local.get 19
            i32.load8_s offset=57298
            local.set 20
            br 1 (;@3;)
          end
          i32.const 0
          local.set 20
        end
        local.get 20
        global.get 0
        i32.xor
        global.set 0
        global.get 1
        i64.xor
        global.set 1
      end
      global.get 1
      i64.xor
      global.set 1
      i32.const 1973672608
    else
      i32.const -1142550403
    end
    global.get 0
    i32.xor
    global.set 0
    global.get 1
    i64.xor
    global.set 1
    global.get 1
    i64.xor
    global.set 1
    i32.const -566902339
  )
  (func (;30;) (type 14)
    (local i32 i32 i32 i64 i32 i32 i32 i32 i32 i64 i32 i32 i32 i32 i32 i32)
    global.get 2
    i32.eqz
    if ;; label = @1
      unreachable
    end
    global.get 2
    i32.const 1
    i32.sub
    global.set 2
    memory.size
    local.set 0
    block ;; label = @1
      block ;; label = @2
        memory.size
        i32.const 65536
        i32.mul
        i32.const 16235
        local.get 0
        i32.add
        i32.le_u
        br_if 0 (;@2;)
        local.get 0
        i32.const 0
        i32.le_s
        br_if 0 (;@2;)
        local.get 0
        i32.load offset=16231 align=2
        local.set 1
        br 1 (;@1;)
      end
      i32.const 0
      local.set 1
    end
    local.get 1
    br_table 0 0
    memory.size
    local.set 2
    block ;; label = @1
      block ;; label = @2
        memory.size
        i32.const 65536
        i32.mul
        i32.const 62823
        local.get 2
        i32.add
        i32.le_u
        br_if 0 (;@2;)
        local.get 2
        i32.const 0
        i32.le_s
        br_if 0 (;@2;)
        local.get 2
        i64.load16_u offset=62815
        local.set 3
        br 1 (;@1;)
      end
      i64.const 0
      local.set 3
    end
    local.get 3
    memory.size
    local.set 4
    block ;; label = @1
      block ;; label = @2
        memory.size
        i32.const 65536
        i32.mul
        i32.const 49661
        local.get 4
        i32.add
        i32.le_u
        br_if 0 (;@2;)
        local.get 4
        i32.const 0
        i32.le_s
        br_if 0 (;@2;)
        local.get 4
        i32.load16_s offset=49657
        local.set 5
        br 1 (;@1;)
      end
      i32.const 0
      local.set 5
    end
    local.get 5
    block (type 13) (param i32) ;; label = @1
      local.set 6
      block ;; label = @2
        block ;; label = @3
          memory.size
          i32.const 65536
          i32.mul
          i32.const 60450
          local.get 6
          i32.add
          i32.le_u
          br_if 0 (;@3;)
          local.get 6
          i32.const 0
          i32.le_s
          br_if 0 (;@3;)
          local.get 6
          i32.load16_s offset=60446
          local.set 7
          br 1 (;@2;)
        end
        i32.const 0
        local.set 7
      end
      local.get 7
      memory.size
      br_if 0 (;@1;)
      local.set 8
      block ;; label = @2
        block ;; label = @3
          memory.size
          i32.const 65536
          i32.mul
          i32.const 49432
          local.get 8
          i32.add
          i32.le_u
          br_if 0 (;@3;)
          local.get 8
          i32.const 0
          i32.le_s
          br_if 0 (;@3;)
          local.get 8
          i64.load32_u offset=49424 align=2
          local.set 9
          br 1 (;@2;)
        end
        i64.const 0
        local.set 9
      end
      local.get 9
      call 30
      return_call 30
      call 2
      local.set 10
      block ;; label = @2
        block ;; label = @3
          memory.size
          i32.const 65536
          i32.mul
          i32.const 20131
          local.get 10
          i32.add
          i32.le_u
          br_if 0 (;@3;)
          local.get 10
          i32.const 0
          i32.le_s
          br_if 0 (;@3;)
          local.get 10
          i32.load16_s offset=20127 align=1
          local.set 11
          br 1 (;@2;)
        end
        i32.const 0
        local.set 11
      end
      local.get 11
      call 25
      local.set 12
      block ;; label = @2
        block ;; label = @3
          memory.size
          i32.const 65536
          i32.mul
          i32.const 20774
          local.get 12
          i32.add
          i32.le_u
          br_if 0 (;@3;)
          local.get 12
          i32.const 0
          i32.le_s
          br_if 0 (;@3;)
          local.get 12
          i32.load8_u offset=20770
          local.set 13
          br 1 (;@2;)
        end
        i32.const 0
        local.set 13
      end
      local.get 13
      local.set 15
      local.set 14
      memory.size
      i32.const 65536
      i32.mul
      i32.const 23243
      local.get 14
      i32.add
      i32.le_u
      if ;; label = @2
      else
        local.get 14
        i32.const 0
        i32.le_s
        if ;; label = @3
        else
          local.get 14
          local.get 15
          i32.store offset=23239
        end
      end
      global.get 1
      i64.xor
      global.set 1
    end
    global.get 1
    i64.xor
    global.set 1
  )
  (func (;31;) (type 15) (param i32) (result i32)
    (local i32 i64 i32 i64 i32 i64 i32 i64 i32 i32 i32 i32 i32 i32 i32 i32)
    global.get 2
    i32.eqz
    if ;; label = @1
      unreachable
    end
    global.get 2
    i32.const 1
    i32.sub
    global.set 2
    memory.size
    local.set 1
    block ;; label = @1
      block ;; label = @2
        memory.size
        i32.const 65536
        i32.mul
        i32.const 42273
        local.get 1
        i32.add
        i32.le_u
        br_if 0 (;@2;)
        local.get 1
        i32.const 0
        i32.le_s
        br_if 0 (;@2;)
        local.get 1
        i64.load16_s offset=42265
        local.set 2
        br 1 (;@1;)
      end
      i64.const 0
      local.set 2
    end
    local.get 2
    return_call 25
    local.set 3
    block ;; label = @1
      block ;; label = @2
        memory.size
        i32.const 65536
        i32.mul
        i32.const 5925
        local.get 3
        i32.add
        i32.le_u
        br_if 0 (;@2;)
        local.get 3
        i32.const 0
        i32.le_s
        br_if 0 (;@2;)
        local.get 3
        i64.load32_s offset=5917 align=2
        local.set 4
        br 1 (;@1;)
      end
      i64.const 0
      local.set 4
    end
    local.get 4
    call 30
    return_call 2
    local.set 5
    block ;; label = @1
      block ;; label = @2
        memory.size
        i32.const 65536
        i32.mul
        i32.const 5328
        local.get 5
        i32.add
        i32.le_u
        br_if 0 (;@2;)
        local.get 5
        i32.const 0
        i32.le_s
        br_if 0 (;@2;)
        local.get 5
        i64.load16_s offset=5320 align=1
        local.set 6
        br 1 (;@1;)
      end
      i64.const 0
      local.set 6
    end
    local.get 6
    block (result externref) ;; label = @1
      return_call 29
      block (type 28) (param i32) ;; label = @2
        block (type 1) (param i32) (result i32) ;; label = @3
          local.set 7
          block ;; label = @4
            block ;; label = @5
              memory.size
              i32.const 65536
              i32.mul
              i32.const 51813
              local.get 7
              i32.add
              i32.le_u
              br_if 0 (;@5;)
              local.get 7
              i32.const 0
              i32.le_s
              br_if 0 (;@5;)
              local.get 7
              i64.load8_s offset=51805
              local.set 8
              br 1 (;@4;)
            end
            i64.const 0
            local.set 8
          end
          local.get 8
          memory.size
          local.set 9
          block ;; label = @4
            block ;; label = @5
              memory.size
              i32.const 65536
              i32.mul
              i32.const 16247
              local.get 9
              i32.add
              i32.le_u
              br_if 0 (;@5;)
              local.get 9
              i32.const 0
              i32.le_s
              br_if 0 (;@5;)
              local.get 9
              i32.load16_s offset=16243 align=1
              local.set 10
              br 1 (;@4;)
            end
            i32.const 0
            local.set 10
          end
          local.get 10
          br_table 1 (;@2;) 1 (;@2;)
          return_call 2
          block (type 28) (param i32) ;; label = @4
            local.set 11
            block ;; label = @5
              block ;; label = @6
                memory.size
                i32.const 65536
                i32.mul
                i32.const 58655
                local.get 11
                i32.add
                i32.le_u
                br_if 0 (;@6;)
                local.get 11
                i32.const 0
                i32.le_s
                br_if 0 (;@6;)
                local.get 11
                i32.load offset=58651 align=2
                local.set 12
                br 1 (;@5;)
              end
              i32.const 0
              local.set 12
            end
            local.get 12
            br_table 0 (;@4;) 2 (;@2;) 0 (;@4;)
            loop (type 14) ;; label = @5
              global.get 2
              i32.eqz
              if ;; label = @6
                unreachable
              end
              global.get 2
              i32.const 1
              i32.sub
              global.set 2
              call 25
              call 3
              br 1 (;@4;)
              local.set 13
              block ;; label = @6
                block ;; label = @7
                  memory.size
                  i32.const 65536
                  i32.mul
                  i32.const 16925
                  local.get 13
                  i32.add
                  i32.le_u
                  br_if 0 (;@7;)
                  local.get 13
                  i32.const 0
                  i32.le_s
                  br_if 0 (;@7;)
                  local.get 13
                  i32.load16_u offset=16921
                  local.set 14
                  br 1 (;@6;)
                end
                i32.const 0
                local.set 14
              end
              local.get 14
              local.set 15
              block ;; label = @6
                block ;; label = @7
                  memory.size
                  i32.const 65536
                  i32.mul
                  i32.const 17850
                  local.get 15
                  i32.add
                  i32.le_u
                  br_if 0 (;@7;)
                  local.get 15
                  i32.const 0
                  i32.le_s
                  br_if 0 (;@7;)
                  local.get 15
                  i32.load16_s offset=17846
                  local.set 16
                  br 1 (;@6;)
                end
                i32.const 0
                local.set 16
              end
              local.get 16
              global.get 0
              i32.xor
              global.set 0
            end
          end
          global.get 1
          i64.xor
          global.set 1
          i32.const 1073741823
        end
        global.get 0
        i32.xor
        global.set 0
      end
      ref.null extern
    end
    drop
    global.get 1
    i64.xor
    global.set 1
    global.get 1
    i64.xor
    global.set 1
    global.get 1
    i64.xor
    global.set 1
    i32.const -4097
  )
  (func (;32;) (type 16) (param i32 i32)
    global.get 2
    i32.eqz
    if ;; label = @1
      unreachable
    end
    global.get 2
    i32.const 1
    i32.sub
    global.set 2
    block (result i32) ;; label = @1
      call 2
    end
    global.get 0
    i32.xor
    global.set 0
  )
  (func (;33;) (type 17) (param i32 i32) (result i32)
    global.get 2
    i32.eqz
    if ;; label = @1
      unreachable
    end
    global.get 2
    i32.const 1
    i32.sub
    global.set 2
    block ;; label = @1
      return_call 25
      drop
    end
    i32.const 0
  )
  (func (;34;) (type 18) (param i32 i32) (result i32)
    global.get 2
    i32.eqz
    if ;; label = @1
      unreachable
    end
    global.get 2
    i32.const 1
    i32.sub
    global.set 2
    i32.const 0
  )
  (func (;35;) (type 19) (param i32)
    global.get 2
    i32.eqz
    if ;; label = @1
      unreachable
    end
    global.get 2
    i32.const 1
    i32.sub
    global.set 2
  )
  (func (;36;) (type 20) (param i32 i32)
    global.get 2
    i32.eqz
    if ;; label = @1
      unreachable
    end
    global.get 2
    i32.const 1
    i32.sub
    global.set 2
  )
  (func (;37;) (type 21) (param i32 i32 i32) (result i32)
    global.get 2
    i32.eqz
    if ;; label = @1
      unreachable
    end
    global.get 2
    i32.const 1
    i32.sub
    global.set 2
    i32.const 0
  )
  (func (;38;) (type 22) (param i32 i32 i32) (result i32)
    global.get 2
    i32.eqz
    if ;; label = @1
      unreachable
    end
    global.get 2
    i32.const 1
    i32.sub
    global.set 2
    i32.const 0
  )
  (func (;39;) (type 23) (param i32 i32) (result i32)
    global.get 2
    i32.eqz
    if ;; label = @1
      unreachable
    end
    global.get 2
    i32.const 1
    i32.sub
    global.set 2
    i32.const 0
  )
  (func (;40;) (type 24) (param i32 i32 i32) (result i32)
    global.get 2
    i32.eqz
    if ;; label = @1
      unreachable
    end
    global.get 2
    i32.const 1
    i32.sub
    global.set 2
    i32.const 0
  )
  (func (;41;) (type 25) (param i32 i32 i32) (result i32)
    global.get 2
    i32.eqz
    if ;; label = @1
      unreachable
    end
    global.get 2
    i32.const 1
    i32.sub
    global.set 2
    i32.const 0
  )
  (func (;42;) (type 26) (param i32 i32) (result i32)
    global.get 2
    i32.eqz
    if ;; label = @1
      unreachable
    end
    global.get 2
    i32.const 1
    i32.sub
    global.set 2
    i32.const 0
  )
  (func (;43;) (type 27) (param i32 i32 i32 i32 i32)
    global.get 2
    i32.eqz
    if ;; label = @1
      unreachable
    end
    global.get 2
    i32.const 1
    i32.sub
    global.set 2
  )
  (func (;44;) (type 28) (param i32)
    global.get 2
    i32.eqz
    if ;; label = @1
      unreachable
    end
    global.get 2
    i32.const 1
    i32.sub
    global.set 2
  )
  (func (;45;) (type 29) (param i32) (result i32)
    global.get 2
    i32.eqz
    if ;; label = @1
      unreachable
    end
    global.get 2
    i32.const 1
    i32.sub
    global.set 2
    i32.const 0
  )
  (func (;46;) (type 30) (param i32)
    global.get 2
    i32.eqz
    if ;; label = @1
      unreachable
    end
    global.get 2
    i32.const 1
    i32.sub
    global.set 2
  )
)
