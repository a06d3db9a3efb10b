// Font files imported from @fontsource packages resolve to URLs at bundle time.
declare module '*.woff2' {
  const url: string;
  export default url;
}
declare module '*.woff' {
  const url: string;
  export default url;
}
