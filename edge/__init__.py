"""Code that runs at CloudFront's edge, beside the function: each module is one Lambda@Edge
function, standard library only, deployed from its own archive (infra/edge_challenge.py)."""
