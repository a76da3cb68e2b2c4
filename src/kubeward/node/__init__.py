"""kubeward.node: see DESIGN.md (package layout); filled by later issues."""
