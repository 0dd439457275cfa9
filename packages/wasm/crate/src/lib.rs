//! softmax_wasm: softmax, log-softmax, their gradients, log-sum-exp, cross-entropy and sampling over `rows × cols`
//! row-major arrays, float32 and float64, exported as a C ABI over pointers into linear memory.
//!
//! Memory is owned by the JavaScript loader (it grows `memory` and places arrays above
//! `__heap_base`); the kernels allocate nothing. Every kernel accepts an output that is one of
//! its inputs of the same shape (in place).
#![cfg_attr(target_arch = "wasm32", no_std)]

pub mod argmax;
pub mod cross_entropy;
pub mod exp32;
pub mod exp64;
pub mod forward32;
pub mod generic;
pub mod log64;
pub mod sample;
pub mod scalar32;
pub mod select;
pub mod softcap;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd32;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd64;
pub mod sum;

mod exports;

#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
