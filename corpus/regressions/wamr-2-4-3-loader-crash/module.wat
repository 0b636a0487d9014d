;; wasmprinter cannot print this module: illegal opcode: 0xf2 (at offset 0x1d)
