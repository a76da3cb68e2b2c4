"""kubeward.client: see DESIGN.md (package layout); filled by later issues."""
