"""The dashboard pages, one thin script each, run by st.navigation."""
