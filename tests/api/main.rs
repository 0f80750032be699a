mod sandbox_fidelity;
mod sandbox_store;
