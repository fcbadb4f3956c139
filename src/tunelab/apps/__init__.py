"""The jobs tunelab's users build with it: each one folder, on top of tasks and inference."""
