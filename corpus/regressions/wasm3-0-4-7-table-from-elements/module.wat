(module
  (table (;0;) 31 49 funcref)
  (elem (;0;) (i32.const 0) func)
)
