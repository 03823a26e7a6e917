//! Trunk's entry point: mounts the page, nothing else.

fn main() {
    dsim_web::start();
}
