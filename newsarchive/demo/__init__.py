"""The bundled demo news site (static pages under site/)."""
