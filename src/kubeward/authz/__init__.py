"""Authorization: may this user do this. One module per mode, composed in ``union``; ``modes`` builds them."""
