// Vite's types for asset imports (`?url`).
/// <reference types="vite/client" />
