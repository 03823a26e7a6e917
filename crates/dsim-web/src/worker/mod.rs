//! Heavy runs in a Web Worker: the page's side (`offload`, wasm only), the jobs the worker runs
//! (`worker_jobs`) and the messages between them (`worker_protocol`).

#[cfg(target_arch = "wasm32")]
pub mod offload;
pub mod worker_jobs;
pub mod worker_protocol;
