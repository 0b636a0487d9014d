//! Small modules around one instruction or a small expression of up to three, fed edge-value
//! operands as arguments or as constants (constants reach the compilers' folding rules).
//!
//! Whole random modules rarely hit one instruction's corner case; these modules aim at it.

use std::fmt::Write;
use std::sync::OnceLock;

use arbitrary::{Result, Unstructured};

use crate::GenerateError;
use crate::features::Features;
use crate::value::{ValType, Value, arbitrary_value};

/// Each line: `name params -> result flags`. Flags: `@feature` (required proposal), `nan`
/// (a float result whose NaN bits are nondeterministic: canonicalized before it flows on),
/// `nan32x4`/`nan64x2` (the same per lane), `mem:N` (memarg, natural alignment N bytes),
/// `lane:N` (lane index below N), `shuffle` (16 lane indices).
const OPS: &str = "
i32.eqz i32 -> i32
i32.eq i32 i32 -> i32
i32.ne i32 i32 -> i32
i32.lt_s i32 i32 -> i32
i32.lt_u i32 i32 -> i32
i32.gt_s i32 i32 -> i32
i32.gt_u i32 i32 -> i32
i32.le_s i32 i32 -> i32
i32.le_u i32 i32 -> i32
i32.ge_s i32 i32 -> i32
i32.ge_u i32 i32 -> i32
i32.clz i32 -> i32
i32.ctz i32 -> i32
i32.popcnt i32 -> i32
i32.add i32 i32 -> i32
i32.sub i32 i32 -> i32
i32.mul i32 i32 -> i32
i32.div_s i32 i32 -> i32
i32.div_u i32 i32 -> i32
i32.rem_s i32 i32 -> i32
i32.rem_u i32 i32 -> i32
i32.and i32 i32 -> i32
i32.or i32 i32 -> i32
i32.xor i32 i32 -> i32
i32.shl i32 i32 -> i32
i32.shr_s i32 i32 -> i32
i32.shr_u i32 i32 -> i32
i32.rotl i32 i32 -> i32
i32.rotr i32 i32 -> i32
i32.extend8_s i32 -> i32 @sign-extension
i32.extend16_s i32 -> i32 @sign-extension
i32.wrap_i64 i64 -> i32
i32.trunc_f32_s f32 -> i32
i32.trunc_f32_u f32 -> i32
i32.trunc_f64_s f64 -> i32
i32.trunc_f64_u f64 -> i32
i32.trunc_sat_f32_s f32 -> i32 @saturating-float-to-int
i32.trunc_sat_f32_u f32 -> i32 @saturating-float-to-int
i32.trunc_sat_f64_s f64 -> i32 @saturating-float-to-int
i32.trunc_sat_f64_u f64 -> i32 @saturating-float-to-int
i32.reinterpret_f32 f32 -> i32
i64.eqz i64 -> i32
i64.eq i64 i64 -> i32
i64.ne i64 i64 -> i32
i64.lt_s i64 i64 -> i32
i64.lt_u i64 i64 -> i32
i64.gt_s i64 i64 -> i32
i64.gt_u i64 i64 -> i32
i64.le_s i64 i64 -> i32
i64.le_u i64 i64 -> i32
i64.ge_s i64 i64 -> i32
i64.ge_u i64 i64 -> i32
i64.clz i64 -> i64
i64.ctz i64 -> i64
i64.popcnt i64 -> i64
i64.add i64 i64 -> i64
i64.sub i64 i64 -> i64
i64.mul i64 i64 -> i64
i64.div_s i64 i64 -> i64
i64.div_u i64 i64 -> i64
i64.rem_s i64 i64 -> i64
i64.rem_u i64 i64 -> i64
i64.and i64 i64 -> i64
i64.or i64 i64 -> i64
i64.xor i64 i64 -> i64
i64.shl i64 i64 -> i64
i64.shr_s i64 i64 -> i64
i64.shr_u i64 i64 -> i64
i64.rotl i64 i64 -> i64
i64.rotr i64 i64 -> i64
i64.extend8_s i64 -> i64 @sign-extension
i64.extend16_s i64 -> i64 @sign-extension
i64.extend32_s i64 -> i64 @sign-extension
i64.extend_i32_s i32 -> i64
i64.extend_i32_u i32 -> i64
i64.trunc_f32_s f32 -> i64
i64.trunc_f32_u f32 -> i64
i64.trunc_f64_s f64 -> i64
i64.trunc_f64_u f64 -> i64
i64.trunc_sat_f32_s f32 -> i64 @saturating-float-to-int
i64.trunc_sat_f32_u f32 -> i64 @saturating-float-to-int
i64.trunc_sat_f64_s f64 -> i64 @saturating-float-to-int
i64.trunc_sat_f64_u f64 -> i64 @saturating-float-to-int
i64.reinterpret_f64 f64 -> i64
f32.eq f32 f32 -> i32
f32.ne f32 f32 -> i32
f32.lt f32 f32 -> i32
f32.gt f32 f32 -> i32
f32.le f32 f32 -> i32
f32.ge f32 f32 -> i32
f32.abs f32 -> f32
f32.neg f32 -> f32
f32.copysign f32 f32 -> f32
f32.ceil f32 -> f32 nan
f32.floor f32 -> f32 nan
f32.trunc f32 -> f32 nan
f32.nearest f32 -> f32 nan
f32.sqrt f32 -> f32 nan
f32.add f32 f32 -> f32 nan
f32.sub f32 f32 -> f32 nan
f32.mul f32 f32 -> f32 nan
f32.div f32 f32 -> f32 nan
f32.min f32 f32 -> f32 nan
f32.max f32 f32 -> f32 nan
f32.convert_i32_s i32 -> f32
f32.convert_i32_u i32 -> f32
f32.convert_i64_s i64 -> f32
f32.convert_i64_u i64 -> f32
f32.demote_f64 f64 -> f32 nan
f32.reinterpret_i32 i32 -> f32
f64.eq f64 f64 -> i32
f64.ne f64 f64 -> i32
f64.lt f64 f64 -> i32
f64.gt f64 f64 -> i32
f64.le f64 f64 -> i32
f64.ge f64 f64 -> i32
f64.abs f64 -> f64
f64.neg f64 -> f64
f64.copysign f64 f64 -> f64
f64.ceil f64 -> f64 nan
f64.floor f64 -> f64 nan
f64.trunc f64 -> f64 nan
f64.nearest f64 -> f64 nan
f64.sqrt f64 -> f64 nan
f64.add f64 f64 -> f64 nan
f64.sub f64 f64 -> f64 nan
f64.mul f64 f64 -> f64 nan
f64.div f64 f64 -> f64 nan
f64.min f64 f64 -> f64 nan
f64.max f64 f64 -> f64 nan
f64.convert_i32_s i32 -> f64
f64.convert_i32_u i32 -> f64
f64.convert_i64_s i64 -> f64
f64.convert_i64_u i64 -> f64
f64.promote_f32 f32 -> f64 nan
f64.reinterpret_i64 i64 -> f64
select i32 i32 i32 -> i32
select i64 i64 i32 -> i64
select f32 f32 i32 -> f32
select f64 f64 i32 -> f64
select v128 v128 i32 -> v128 @simd
i32.load i32 -> i32 mem:4
i64.load i32 -> i64 mem:8
f32.load i32 -> f32 mem:4
f64.load i32 -> f64 mem:8
i32.load8_s i32 -> i32 mem:1
i32.load8_u i32 -> i32 mem:1
i32.load16_s i32 -> i32 mem:2
i32.load16_u i32 -> i32 mem:2
i64.load8_s i32 -> i64 mem:1
i64.load8_u i32 -> i64 mem:1
i64.load16_s i32 -> i64 mem:2
i64.load16_u i32 -> i64 mem:2
i64.load32_s i32 -> i64 mem:4
i64.load32_u i32 -> i64 mem:4
i32.store i32 i32 -> mem:4
i64.store i32 i64 -> mem:8
f32.store i32 f32 -> mem:4
f64.store i32 f64 -> mem:8
i32.store8 i32 i32 -> mem:1
i32.store16 i32 i32 -> mem:2
i64.store8 i32 i64 -> mem:1
i64.store16 i32 i64 -> mem:2
i64.store32 i32 i64 -> mem:4
memory.size -> i32
memory.grow i32 -> i32
memory.fill i32 i32 i32 -> @bulk-memory
memory.copy i32 i32 i32 -> @bulk-memory
v128.load i32 -> v128 mem:16 @simd
v128.load8x8_s i32 -> v128 mem:8 @simd
v128.load8x8_u i32 -> v128 mem:8 @simd
v128.load16x4_s i32 -> v128 mem:8 @simd
v128.load16x4_u i32 -> v128 mem:8 @simd
v128.load32x2_s i32 -> v128 mem:8 @simd
v128.load32x2_u i32 -> v128 mem:8 @simd
v128.load8_splat i32 -> v128 mem:1 @simd
v128.load16_splat i32 -> v128 mem:2 @simd
v128.load32_splat i32 -> v128 mem:4 @simd
v128.load64_splat i32 -> v128 mem:8 @simd
v128.load32_zero i32 -> v128 mem:4 @simd
v128.load64_zero i32 -> v128 mem:8 @simd
v128.store i32 v128 -> mem:16 @simd
v128.load8_lane i32 v128 -> v128 mem:1 lane:16 @simd
v128.load16_lane i32 v128 -> v128 mem:2 lane:8 @simd
v128.load32_lane i32 v128 -> v128 mem:4 lane:4 @simd
v128.load64_lane i32 v128 -> v128 mem:8 lane:2 @simd
v128.store8_lane i32 v128 -> mem:1 lane:16 @simd
v128.store16_lane i32 v128 -> mem:2 lane:8 @simd
v128.store32_lane i32 v128 -> mem:4 lane:4 @simd
v128.store64_lane i32 v128 -> mem:8 lane:2 @simd
i8x16.splat i32 -> v128 @simd
i16x8.splat i32 -> v128 @simd
i32x4.splat i32 -> v128 @simd
i64x2.splat i64 -> v128 @simd
f32x4.splat f32 -> v128 @simd
f64x2.splat f64 -> v128 @simd
i8x16.extract_lane_s v128 -> i32 lane:16 @simd
i8x16.extract_lane_u v128 -> i32 lane:16 @simd
i16x8.extract_lane_s v128 -> i32 lane:8 @simd
i16x8.extract_lane_u v128 -> i32 lane:8 @simd
i32x4.extract_lane v128 -> i32 lane:4 @simd
i64x2.extract_lane v128 -> i64 lane:2 @simd
f32x4.extract_lane v128 -> f32 lane:4 @simd
f64x2.extract_lane v128 -> f64 lane:2 @simd
i8x16.replace_lane v128 i32 -> v128 lane:16 @simd
i16x8.replace_lane v128 i32 -> v128 lane:8 @simd
i32x4.replace_lane v128 i32 -> v128 lane:4 @simd
i64x2.replace_lane v128 i64 -> v128 lane:2 @simd
f32x4.replace_lane v128 f32 -> v128 lane:4 @simd
f64x2.replace_lane v128 f64 -> v128 lane:2 @simd
i8x16.shuffle v128 v128 -> v128 shuffle @simd
i8x16.swizzle v128 v128 -> v128 @simd
v128.not v128 -> v128 @simd
v128.and v128 v128 -> v128 @simd
v128.andnot v128 v128 -> v128 @simd
v128.or v128 v128 -> v128 @simd
v128.xor v128 v128 -> v128 @simd
v128.bitselect v128 v128 v128 -> v128 @simd
v128.any_true v128 -> i32 @simd
i8x16.eq v128 v128 -> v128 @simd
i8x16.ne v128 v128 -> v128 @simd
i8x16.lt_s v128 v128 -> v128 @simd
i8x16.lt_u v128 v128 -> v128 @simd
i8x16.gt_s v128 v128 -> v128 @simd
i8x16.gt_u v128 v128 -> v128 @simd
i8x16.le_s v128 v128 -> v128 @simd
i8x16.le_u v128 v128 -> v128 @simd
i8x16.ge_s v128 v128 -> v128 @simd
i8x16.ge_u v128 v128 -> v128 @simd
i16x8.eq v128 v128 -> v128 @simd
i16x8.ne v128 v128 -> v128 @simd
i16x8.lt_s v128 v128 -> v128 @simd
i16x8.lt_u v128 v128 -> v128 @simd
i16x8.gt_s v128 v128 -> v128 @simd
i16x8.gt_u v128 v128 -> v128 @simd
i16x8.le_s v128 v128 -> v128 @simd
i16x8.le_u v128 v128 -> v128 @simd
i16x8.ge_s v128 v128 -> v128 @simd
i16x8.ge_u v128 v128 -> v128 @simd
i32x4.eq v128 v128 -> v128 @simd
i32x4.ne v128 v128 -> v128 @simd
i32x4.lt_s v128 v128 -> v128 @simd
i32x4.lt_u v128 v128 -> v128 @simd
i32x4.gt_s v128 v128 -> v128 @simd
i32x4.gt_u v128 v128 -> v128 @simd
i32x4.le_s v128 v128 -> v128 @simd
i32x4.le_u v128 v128 -> v128 @simd
i32x4.ge_s v128 v128 -> v128 @simd
i32x4.ge_u v128 v128 -> v128 @simd
i64x2.eq v128 v128 -> v128 @simd
i64x2.ne v128 v128 -> v128 @simd
i64x2.lt_s v128 v128 -> v128 @simd
i64x2.gt_s v128 v128 -> v128 @simd
i64x2.le_s v128 v128 -> v128 @simd
i64x2.ge_s v128 v128 -> v128 @simd
f32x4.eq v128 v128 -> v128 @simd
f32x4.ne v128 v128 -> v128 @simd
f32x4.lt v128 v128 -> v128 @simd
f32x4.gt v128 v128 -> v128 @simd
f32x4.le v128 v128 -> v128 @simd
f32x4.ge v128 v128 -> v128 @simd
f64x2.eq v128 v128 -> v128 @simd
f64x2.ne v128 v128 -> v128 @simd
f64x2.lt v128 v128 -> v128 @simd
f64x2.gt v128 v128 -> v128 @simd
f64x2.le v128 v128 -> v128 @simd
f64x2.ge v128 v128 -> v128 @simd
i8x16.abs v128 -> v128 @simd
i8x16.neg v128 -> v128 @simd
i8x16.popcnt v128 -> v128 @simd
i8x16.all_true v128 -> i32 @simd
i8x16.bitmask v128 -> i32 @simd
i8x16.narrow_i16x8_s v128 v128 -> v128 @simd
i8x16.narrow_i16x8_u v128 v128 -> v128 @simd
i8x16.shl v128 i32 -> v128 @simd
i8x16.shr_s v128 i32 -> v128 @simd
i8x16.shr_u v128 i32 -> v128 @simd
i8x16.add v128 v128 -> v128 @simd
i8x16.add_sat_s v128 v128 -> v128 @simd
i8x16.add_sat_u v128 v128 -> v128 @simd
i8x16.sub v128 v128 -> v128 @simd
i8x16.sub_sat_s v128 v128 -> v128 @simd
i8x16.sub_sat_u v128 v128 -> v128 @simd
i8x16.min_s v128 v128 -> v128 @simd
i8x16.min_u v128 v128 -> v128 @simd
i8x16.max_s v128 v128 -> v128 @simd
i8x16.max_u v128 v128 -> v128 @simd
i8x16.avgr_u v128 v128 -> v128 @simd
i16x8.extadd_pairwise_i8x16_s v128 -> v128 @simd
i16x8.extadd_pairwise_i8x16_u v128 -> v128 @simd
i16x8.abs v128 -> v128 @simd
i16x8.neg v128 -> v128 @simd
i16x8.q15mulr_sat_s v128 v128 -> v128 @simd
i16x8.all_true v128 -> i32 @simd
i16x8.bitmask v128 -> i32 @simd
i16x8.narrow_i32x4_s v128 v128 -> v128 @simd
i16x8.narrow_i32x4_u v128 v128 -> v128 @simd
i16x8.extend_low_i8x16_s v128 -> v128 @simd
i16x8.extend_high_i8x16_s v128 -> v128 @simd
i16x8.extend_low_i8x16_u v128 -> v128 @simd
i16x8.extend_high_i8x16_u v128 -> v128 @simd
i16x8.shl v128 i32 -> v128 @simd
i16x8.shr_s v128 i32 -> v128 @simd
i16x8.shr_u v128 i32 -> v128 @simd
i16x8.add v128 v128 -> v128 @simd
i16x8.add_sat_s v128 v128 -> v128 @simd
i16x8.add_sat_u v128 v128 -> v128 @simd
i16x8.sub v128 v128 -> v128 @simd
i16x8.sub_sat_s v128 v128 -> v128 @simd
i16x8.sub_sat_u v128 v128 -> v128 @simd
i16x8.mul v128 v128 -> v128 @simd
i16x8.min_s v128 v128 -> v128 @simd
i16x8.min_u v128 v128 -> v128 @simd
i16x8.max_s v128 v128 -> v128 @simd
i16x8.max_u v128 v128 -> v128 @simd
i16x8.avgr_u v128 v128 -> v128 @simd
i16x8.extmul_low_i8x16_s v128 v128 -> v128 @simd
i16x8.extmul_high_i8x16_s v128 v128 -> v128 @simd
i16x8.extmul_low_i8x16_u v128 v128 -> v128 @simd
i16x8.extmul_high_i8x16_u v128 v128 -> v128 @simd
i32x4.extadd_pairwise_i16x8_s v128 -> v128 @simd
i32x4.extadd_pairwise_i16x8_u v128 -> v128 @simd
i32x4.abs v128 -> v128 @simd
i32x4.neg v128 -> v128 @simd
i32x4.all_true v128 -> i32 @simd
i32x4.bitmask v128 -> i32 @simd
i32x4.extend_low_i16x8_s v128 -> v128 @simd
i32x4.extend_high_i16x8_s v128 -> v128 @simd
i32x4.extend_low_i16x8_u v128 -> v128 @simd
i32x4.extend_high_i16x8_u v128 -> v128 @simd
i32x4.shl v128 i32 -> v128 @simd
i32x4.shr_s v128 i32 -> v128 @simd
i32x4.shr_u v128 i32 -> v128 @simd
i32x4.add v128 v128 -> v128 @simd
i32x4.sub v128 v128 -> v128 @simd
i32x4.mul v128 v128 -> v128 @simd
i32x4.min_s v128 v128 -> v128 @simd
i32x4.min_u v128 v128 -> v128 @simd
i32x4.max_s v128 v128 -> v128 @simd
i32x4.max_u v128 v128 -> v128 @simd
i32x4.dot_i16x8_s v128 v128 -> v128 @simd
i32x4.extmul_low_i16x8_s v128 v128 -> v128 @simd
i32x4.extmul_high_i16x8_s v128 v128 -> v128 @simd
i32x4.extmul_low_i16x8_u v128 v128 -> v128 @simd
i32x4.extmul_high_i16x8_u v128 v128 -> v128 @simd
i64x2.abs v128 -> v128 @simd
i64x2.neg v128 -> v128 @simd
i64x2.all_true v128 -> i32 @simd
i64x2.bitmask v128 -> i32 @simd
i64x2.extend_low_i32x4_s v128 -> v128 @simd
i64x2.extend_high_i32x4_s v128 -> v128 @simd
i64x2.extend_low_i32x4_u v128 -> v128 @simd
i64x2.extend_high_i32x4_u v128 -> v128 @simd
i64x2.shl v128 i32 -> v128 @simd
i64x2.shr_s v128 i32 -> v128 @simd
i64x2.shr_u v128 i32 -> v128 @simd
i64x2.add v128 v128 -> v128 @simd
i64x2.sub v128 v128 -> v128 @simd
i64x2.mul v128 v128 -> v128 @simd
i64x2.extmul_low_i32x4_s v128 v128 -> v128 @simd
i64x2.extmul_high_i32x4_s v128 v128 -> v128 @simd
i64x2.extmul_low_i32x4_u v128 v128 -> v128 @simd
i64x2.extmul_high_i32x4_u v128 v128 -> v128 @simd
f32x4.ceil v128 -> v128 nan32x4 @simd
f32x4.floor v128 -> v128 nan32x4 @simd
f32x4.trunc v128 -> v128 nan32x4 @simd
f32x4.nearest v128 -> v128 nan32x4 @simd
f32x4.abs v128 -> v128 @simd
f32x4.neg v128 -> v128 @simd
f32x4.sqrt v128 -> v128 nan32x4 @simd
f32x4.add v128 v128 -> v128 nan32x4 @simd
f32x4.sub v128 v128 -> v128 nan32x4 @simd
f32x4.mul v128 v128 -> v128 nan32x4 @simd
f32x4.div v128 v128 -> v128 nan32x4 @simd
f32x4.min v128 v128 -> v128 nan32x4 @simd
f32x4.max v128 v128 -> v128 nan32x4 @simd
f32x4.pmin v128 v128 -> v128 @simd
f32x4.pmax v128 v128 -> v128 @simd
f64x2.ceil v128 -> v128 nan64x2 @simd
f64x2.floor v128 -> v128 nan64x2 @simd
f64x2.trunc v128 -> v128 nan64x2 @simd
f64x2.nearest v128 -> v128 nan64x2 @simd
f64x2.abs v128 -> v128 @simd
f64x2.neg v128 -> v128 @simd
f64x2.sqrt v128 -> v128 nan64x2 @simd
f64x2.add v128 v128 -> v128 nan64x2 @simd
f64x2.sub v128 v128 -> v128 nan64x2 @simd
f64x2.mul v128 v128 -> v128 nan64x2 @simd
f64x2.div v128 v128 -> v128 nan64x2 @simd
f64x2.min v128 v128 -> v128 nan64x2 @simd
f64x2.max v128 v128 -> v128 nan64x2 @simd
f64x2.pmin v128 v128 -> v128 @simd
f64x2.pmax v128 v128 -> v128 @simd
i32x4.trunc_sat_f32x4_s v128 -> v128 @simd
i32x4.trunc_sat_f32x4_u v128 -> v128 @simd
f32x4.convert_i32x4_s v128 -> v128 @simd
f32x4.convert_i32x4_u v128 -> v128 @simd
i32x4.trunc_sat_f64x2_s_zero v128 -> v128 @simd
i32x4.trunc_sat_f64x2_u_zero v128 -> v128 @simd
f64x2.convert_low_i32x4_s v128 -> v128 @simd
f64x2.convert_low_i32x4_u v128 -> v128 @simd
f32x4.demote_f64x2_zero v128 -> v128 nan32x4 @simd
f64x2.promote_low_f32x4 v128 -> v128 nan64x2 @simd
i8x16.relaxed_swizzle v128 v128 -> v128 @relaxed-simd
i32x4.relaxed_trunc_f32x4_s v128 -> v128 @relaxed-simd
i32x4.relaxed_trunc_f32x4_u v128 -> v128 @relaxed-simd
i32x4.relaxed_trunc_f64x2_s_zero v128 -> v128 @relaxed-simd
i32x4.relaxed_trunc_f64x2_u_zero v128 -> v128 @relaxed-simd
f32x4.relaxed_madd v128 v128 v128 -> v128 nan32x4 @relaxed-simd
f32x4.relaxed_nmadd v128 v128 v128 -> v128 nan32x4 @relaxed-simd
f64x2.relaxed_madd v128 v128 v128 -> v128 nan64x2 @relaxed-simd
f64x2.relaxed_nmadd v128 v128 v128 -> v128 nan64x2 @relaxed-simd
i8x16.relaxed_laneselect v128 v128 v128 -> v128 @relaxed-simd
i16x8.relaxed_laneselect v128 v128 v128 -> v128 @relaxed-simd
i32x4.relaxed_laneselect v128 v128 v128 -> v128 @relaxed-simd
i64x2.relaxed_laneselect v128 v128 v128 -> v128 @relaxed-simd
f32x4.relaxed_min v128 v128 -> v128 nan32x4 @relaxed-simd
f32x4.relaxed_max v128 v128 -> v128 nan32x4 @relaxed-simd
f64x2.relaxed_min v128 v128 -> v128 nan64x2 @relaxed-simd
f64x2.relaxed_max v128 v128 -> v128 nan64x2 @relaxed-simd
i16x8.relaxed_q15mulr_s v128 v128 -> v128 @relaxed-simd
i16x8.relaxed_dot_i8x16_i7x16_s v128 v128 -> v128 @relaxed-simd
i32x4.relaxed_dot_i8x16_i7x16_add_s v128 v128 v128 -> v128 @relaxed-simd
";

/// How a float result is made deterministic before it flows into further instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Canon {
    F32,
    F64,
    F32x4,
    F64x2,
}

#[derive(Clone, Debug)]
pub(crate) struct Op {
    pub(crate) name: &'static str,
    pub(crate) params: Vec<ValType>,
    pub(crate) result: Option<ValType>,
    pub(crate) feature: Option<&'static str>,
    pub(crate) canon: Option<Canon>,
    pub(crate) mem_align: Option<u32>,
    pub(crate) lanes: Option<u32>,
    pub(crate) shuffle: bool,
}

impl Op {
    pub(crate) fn allowed(&self, features: &Features) -> bool {
        match self.feature {
            None => true,
            // Relaxed SIMD instructions need the SIMD proposal too.
            Some("relaxed-simd") => features.relaxed_simd && features.simd,
            Some(feature) => features.get(feature) == Some(true),
        }
    }
}

fn parse_type(token: &str) -> Option<ValType> {
    Some(match token {
        "i32" => ValType::I32,
        "i64" => ValType::I64,
        "f32" => ValType::F32,
        "f64" => ValType::F64,
        "v128" => ValType::V128,
        _ => return None,
    })
}

fn parse_op(line: &'static str) -> std::result::Result<Op, String> {
    let bad = |why: &str| format!("op table line `{line}`: {why}");
    let (sig, flags) = line.split_once("->").ok_or_else(|| bad("no `->`"))?;
    let mut sig = sig.split_whitespace();
    let name = sig.next().ok_or_else(|| bad("no name"))?;
    let params = sig
        .map(|t| parse_type(t).ok_or_else(|| bad("bad param type")))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let mut op = Op {
        name,
        params,
        result: None,
        feature: None,
        canon: None,
        mem_align: None,
        lanes: None,
        shuffle: false,
    };
    for flag in flags.split_whitespace() {
        if let Some(ty) = parse_type(flag) {
            op.result = Some(ty);
        } else if let Some(feature) = flag.strip_prefix('@') {
            if Features::default().get(feature).is_none() {
                return Err(bad("unknown feature"));
            }
            op.feature = Some(feature);
        } else if let Some(n) = flag.strip_prefix("mem:") {
            op.mem_align = Some(n.parse().map_err(|_| bad("bad mem"))?);
        } else if let Some(n) = flag.strip_prefix("lane:") {
            op.lanes = Some(n.parse().map_err(|_| bad("bad lane"))?);
        } else {
            match flag {
                "nan" => {
                    op.canon = match op.result {
                        Some(ValType::F32) => Some(Canon::F32),
                        Some(ValType::F64) => Some(Canon::F64),
                        _ => return Err(bad("`nan` needs a float result")),
                    }
                }
                "nan32x4" => op.canon = Some(Canon::F32x4),
                "nan64x2" => op.canon = Some(Canon::F64x2),
                "shuffle" => op.shuffle = true,
                _ => return Err(bad("unknown flag")),
            }
        }
    }
    Ok(op)
}

pub(crate) fn ops() -> &'static [Op] {
    static OPS_TABLE: OnceLock<Vec<Op>> = OnceLock::new();
    OPS_TABLE.get_or_init(|| {
        OPS.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| parse_op(l).unwrap_or_else(|e| panic!("{e}")))
            .collect()
    })
}

/// The names of the instructions this generator can aim at under `features`.
pub fn instruction_names(features: &Features) -> Vec<&'static str> {
    ops()
        .iter()
        .filter(|op| op.allowed(features))
        .map(|op| op.name)
        .collect()
}

/// Most instructions in one module's expression (not counting NaN canonicalization).
const MAX_INSTRUCTIONS: usize = 3;

/// WAT text for a float or vector constant of the given bits.
pub(crate) fn wat_const(value: Value) -> String {
    fn float(bits: u64, exp_bits: u32, mant_bits: u32, value: f64) -> String {
        let sign = if bits >> (exp_bits + mant_bits) & 1 == 1 {
            "-"
        } else {
            ""
        };
        let exp = (bits >> mant_bits) & ((1 << exp_bits) - 1);
        let mant = bits & ((1 << mant_bits) - 1);
        if exp == (1 << exp_bits) - 1 {
            if mant == 0 {
                format!("{sign}inf")
            } else {
                format!("{sign}nan:0x{mant:x}")
            }
        } else {
            format!("{value:?}")
        }
    }
    match value {
        Value::I32(v) => format!("i32.const {v}"),
        Value::I64(v) => format!("i64.const {v}"),
        Value::F32(bits) => format!(
            "f32.const {}",
            float(bits as u64, 8, 23, f32::from_bits(bits) as f64)
        ),
        Value::F64(bits) => format!("f64.const {}", float(bits, 11, 52, f64::from_bits(bits))),
        Value::V128(bits) => format!(
            "v128.const i64x2 0x{:x} 0x{:x}",
            bits as u64,
            (bits >> 64) as u64
        ),
        Value::Ref { .. } => unreachable!("no reference operands in the op table"),
    }
}

const OFFSETS: &[u32] = &[
    0, 0, 0, 1, 2, 3, 4, 7, 8, 15, 16, 100, 65_520, 65_528, 65_532, 65_535, 65_536, 131_072,
];

struct Body {
    params: Vec<ValType>,
    locals: Vec<ValType>,
    code: String,
}

impl Body {
    /// A fresh local, by name: parameters may still be added, which would shift indices.
    fn local(&mut self, ty: ValType) -> String {
        self.locals.push(ty);
        format!("$c{}", self.locals.len() - 1)
    }

    fn operand(&mut self, u: &mut Unstructured<'_>, ty: ValType) -> Result<()> {
        if u.arbitrary()? {
            let index = self.params.len();
            self.params.push(ty);
            writeln!(self.code, "    local.get {index}").unwrap();
        } else {
            let value = arbitrary_value(u, ty)?;
            writeln!(self.code, "    {}", wat_const(value)).unwrap();
        }
        Ok(())
    }

    /// Replaces any NaN on the stack top (or in any lane) by the canonical NaN.
    fn canonicalize(&mut self, canon: Canon) {
        let (ty, nan, ne) = match canon {
            Canon::F32 => (ValType::F32, "f32.const nan", "f32.ne\n    select"),
            Canon::F64 => (ValType::F64, "f64.const nan", "f64.ne\n    select"),
            Canon::F32x4 => (
                ValType::V128,
                "v128.const f32x4 nan nan nan nan",
                "f32x4.ne\n    v128.bitselect",
            ),
            Canon::F64x2 => (
                ValType::V128,
                "v128.const f64x2 nan nan",
                "f64x2.ne\n    v128.bitselect",
            ),
        };
        let t = self.local(ty);
        write!(
            self.code,
            "    local.set {t}\n    {nan}\n    local.get {t}\n    local.get {t}\n    local.get {t}\n    {ne}\n"
        )
        .unwrap();
    }

    fn instruction(&mut self, u: &mut Unstructured<'_>, op: &Op) -> Result<()> {
        let mut text = op.name.to_string();
        if let Some(natural) = op.mem_align {
            let offset = *u.choose(OFFSETS)?;
            let align = 1u32 << u.int_in_range(0..=natural.trailing_zeros())?;
            write!(text, " offset={offset} align={align}").unwrap();
        }
        if let Some(lanes) = op.lanes {
            write!(text, " {}", u.int_in_range(0..=lanes - 1)?).unwrap();
        }
        if op.shuffle {
            for _ in 0..16 {
                write!(text, " {}", u.int_in_range(0..=31u8)?).unwrap();
            }
        }
        writeln!(self.code, "    {text}").unwrap();
        Ok(())
    }
}

/// A module exporting one function that evaluates a small expression (one to three
/// instructions) over its parameters and constants, plus an exported memory (observed after
/// the calls) with patterned contents.
pub fn module(
    u: &mut Unstructured<'_>,
    features: &Features,
) -> std::result::Result<Vec<u8>, GenerateError> {
    let candidates: Vec<&Op> = ops().iter().filter(|op| op.allowed(features)).collect();
    let root = *u.choose(&candidates)?;
    let wat = expression_wat(u, root, &candidates)?;
    wat::parse_str(&wat).map_err(|e| {
        GenerateError::Internal(format!(
            "single-instruction module does not assemble: {e}\n{wat}"
        ))
    })
}

impl Body {
    /// Emits `op` with its operands, each a parameter, a constant, or (while `budget` lasts) a
    /// smaller expression from `candidates` of the operand's type. Post-order, as the stack needs.
    fn expression(
        &mut self,
        u: &mut Unstructured<'_>,
        op: &Op,
        candidates: &[&Op],
        budget: &mut usize,
        names: &mut Vec<&'static str>,
    ) -> Result<()> {
        for ty in &op.params {
            let inner: Vec<&Op> = if *budget > 0 {
                candidates
                    .iter()
                    .copied()
                    .filter(|c| c.result == Some(*ty))
                    .collect()
            } else {
                Vec::new()
            };
            if !inner.is_empty() && u.ratio(1, 3)? {
                *budget -= 1;
                let inner = *u.choose(&inner)?;
                self.expression(u, inner, candidates, budget, names)?;
                // An operand's NaN bits would flow into this instruction: make them canonical.
                if let Some(canon) = inner.canon {
                    self.canonicalize(canon);
                }
            } else {
                self.operand(u, *ty)?;
            }
        }
        self.instruction(u, op)?;
        names.push(op.name);
        Ok(())
    }
}

/// The module text for an expression rooted at `root`, with sub-expressions from `candidates`.
fn expression_wat(u: &mut Unstructured<'_>, root: &Op, candidates: &[&Op]) -> Result<String> {
    let mut body = Body {
        params: Vec::new(),
        locals: Vec::new(),
        code: String::new(),
    };
    let mut names = Vec::new();
    body.expression(u, root, candidates, &mut (MAX_INSTRUCTIONS - 1), &mut names)?;
    // Scalar float results compare NaN-aware; vector lanes compare bit for bit.
    if let Some(canon @ (Canon::F32x4 | Canon::F64x2)) = root.canon {
        body.canonicalize(canon);
    }
    let result = root
        .result
        .map(|t| format!(" (result {t})"))
        .unwrap_or_default();
    let params: String = body.params.iter().map(|t| format!(" {t}")).collect();
    let locals: String = body
        .locals
        .iter()
        .enumerate()
        .map(|(i, t)| format!(" (local $c{i} {t})"))
        .collect();
    let pages = *u.choose(&[1u32, 1, 1, 0, 2])?;
    let max = pages + u.int_in_range(0..=2)?;
    let mut wat = format!("(module\n  (memory (export \"memory\") {pages} {max})\n");
    if pages > 0 {
        // Loads see patterned bytes at both ends of the memory, not just zeros.
        for offset in [0, pages * 65536 - 64] {
            let mut data = String::new();
            for i in 0..64u32 {
                let byte = (i.wrapping_mul(37) as u8 ^ 0x5a) ^ u.arbitrary::<u8>()?;
                write!(data, "\\{byte:02x}").unwrap();
            }
            writeln!(wat, "  (data (i32.const {offset}) \"{data}\")").unwrap();
        }
    }
    let name = names.join(" ");
    writeln!(
        wat,
        "  (func (export \"{name}\") (param{params}){result}{locals}"
    )
    .unwrap();
    wat.push_str(&body.code);
    wat.push_str("  )\n)\n");
    Ok(wat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_assembles_and_validates_alone() {
        for op in ops() {
            assert!(op.params.len() <= 3, "{}", op.name);
            for seed in 0..8u8 {
                let data: Vec<u8> = (0..512u32)
                    .map(|i| (i as u8).wrapping_mul(seed | 1).wrapping_add(seed))
                    .collect();
                let wat = expression_wat(&mut Unstructured::new(&data), op, &[]).unwrap();
                let wasm =
                    wat::parse_str(&wat).unwrap_or_else(|e| panic!("{}: {e}\n{wat}", op.name));
                wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
                    .validate_all(&wasm)
                    .unwrap_or_else(|e| panic!("{}: {e}\n{wat}", op.name));
            }
        }
        assert!(instruction_names(&Features::ALL).len() > 300);
    }

    #[test]
    fn expressions_stay_valid() {
        for seed in 0..500u32 {
            let data: Vec<u8> = (0..300u32)
                .map(|i| (i.wrapping_mul(seed * 2 + 1) >> 3) as u8)
                .collect();
            let wasm = module(&mut Unstructured::new(&data), &Features::ALL).unwrap();
            wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
                .validate_all(&wasm)
                .unwrap();
        }
    }

    #[test]
    fn feature_gates_hold() {
        let mut mvp = Features::ALL;
        for feature in [
            "simd",
            "sign-extension",
            "saturating-float-to-int",
            "bulk-memory",
        ] {
            mvp.set(feature, false);
        }
        let names = instruction_names(&mvp);
        assert!(names.contains(&"i32.add"));
        assert!(!names.iter().any(|n| n.starts_with("v128")
            || ["x16.", "x8.", "x4.", "x2."].iter().any(|l| n.contains(l))));
        assert!(!names.contains(&"i32.extend8_s"));
        assert!(!names.contains(&"i32.trunc_sat_f32_s"));
        assert!(!names.contains(&"memory.fill"));
        let mut no_relaxed = Features::ALL;
        no_relaxed.relaxed_simd = false;
        assert!(!instruction_names(&no_relaxed).contains(&"f32x4.relaxed_madd"));
        assert!(instruction_names(&no_relaxed).contains(&"f32x4.add"));
    }
}
