"""The console's routes, one `APIRouter` per resource; `main.api_router` gathers them."""
