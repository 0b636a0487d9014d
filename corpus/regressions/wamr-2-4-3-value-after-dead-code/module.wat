(module
  (type (;0;) (func (result f32)))
  (table (;0;) 1 980 funcref)
  (global (;0;) (mut i32) i32.const 0)
  (global (;1;) (mut i32) i32.const 0)
  (global (;2;) (mut i64) i64.const 0)
  (global (;3;) (mut i32) i32.const 1)
  (export "" (func 0))
  (func (;0;) (type 0) (result f32)
    (local f64 f64 f64 f64 f64 f64 f64 f64 f32 f32 f32 f64)
    i64.const 1
    f32.convert_i64_u
    i32.const 1
    f64.convert_i32_u
    block ;; label = @1
      br 0 (;@1;)
      loop ;; label = @2
        global.get 3
        global.set 3
        loop ;; label = @3
          block ;; label = @4
            block ;; label = @5
              block ;; label = @6
                call 0
                br 6
                block (result i64) ;; label = @7
                  loop (result i64) ;; label = @8
                    br 2 (;@6;)
                    block (result i32) ;; label = @9
                      i64.const 0
                      br 2 (;@7;)
                      block (result i64) ;; label = @10
                        block ;; label = @11
                          f64.const 0x1.p-1073 (;=0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001;)
                          call 0
                          i32.const 980
                          loop ;; label = @12
                            f64.const 0x1.fep-1067 (;=0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000126;)
                            i32.const 1
                            call_indirect (type 0)
                            i32.const 2097151
                            if (result f64) ;; label = @13
                              f64.const -0x1.f9a93585a39bp-646 (;=-0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000006764602343137055;)
                            else
                              f64.const 0x1.3fa6244689558p-475 (;=0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000012799276826297844;)
                            end
                            i64.reinterpret_f64
                            global.set 2
                            i32.reinterpret_f32
                            global.set 0
                            i64.reinterpret_f64
                            global.set 2
                          end
                          global.set 1
                          i32.reinterpret_f32
                          global.set 0
                          i64.reinterpret_f64
                          global.set 2
                        end
                        i64.const 0
                      end
                      global.set 2
                    end
                    global.set 1
                  end
                end
                global.set 2
              end
            end
          end
        end
      end
    end
    i64.reinterpret_f64
    global.set 2
  )
)
