"""`tunelab-serve`: an exported model behind an HTTP JSON API (FastAPI on uvicorn), with
requests from concurrent clients batched together, and a page to try it in a browser."""
