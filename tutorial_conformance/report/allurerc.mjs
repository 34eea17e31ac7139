// Allure 3 configuration of the suite's HTML report (ci/report.sh): the Awesome report as
// one self-contained index.html (it opens from file://), tests grouped by the tutorial's
// section (epic) and claim (feature), every step and attachment of a test shown.
export default {
  name: "Introduction to Kubernetes: conformance",
  plugins: {
    awesome: {
      options: {
        singleFile: true,
        reportLanguage: "en",
        theme: "light",
        groupBy: ["epic", "feature"],
        stepTreeExpansion: "expanded",
      },
    },
  },
};
