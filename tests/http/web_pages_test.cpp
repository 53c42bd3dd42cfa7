// The tables of files hlsgate serves to browsers (http/web_pages.hpp): each
// URL name maps to one file under HLSGATE_WEB_DIR, none can climb out of it,
// and the pages' policies allow only this origin.
#include "http/web_pages.hpp"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace hlsgate::http {
namespace {

TEST(web_pages, app_and_docs_files_are_named_ones_inside_the_web_dir) {
  const char* app[] = {"app.css",    "api.js",        "player.js", "app.js",
                       "pages.js",   "upload.js",     "embed.js",  "icon.svg",
                       "hls.min.js", "hls.worker.js", "live.js"};
  std::set<std::string_view> paths;
  for (const char* n : app) {
    const web_asset* a = find_app_asset(n);
    ASSERT_NE(a, nullptr) << n;
    EXPECT_EQ(a->name, n);
    EXPECT_EQ(a->package_path.find(".."), std::string_view::npos) << n;
    EXPECT_NE(a->package_path.front(), '/') << n;
    EXPECT_TRUE(paths.insert(a->package_path).second) << "one file per name: " << n;
    EXPECT_EQ(a->from_package, a->package_path.rfind("node_modules/", 0) == 0) << n;
  }
  EXPECT_NE(find_app_asset(app_player_asset), nullptr);
  for (const char* n : {"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})
    ASSERT_NE(find_docs_asset(n), nullptr) << n;
  // The pages themselves are not assets, nor is anything else.
  for (const char* n : {"index.html", "embed.html", "", "hls.min.js.map", "../app.js", "APP.JS"}) {
    EXPECT_EQ(find_app_asset(n), nullptr) << n;
    EXPECT_EQ(find_docs_asset(n), nullptr) << n;
  }
  EXPECT_EQ(find_docs_asset("app.js"), nullptr) << "the two tables stay apart";
}

TEST(web_pages, policies_allow_only_this_origin_and_differ_in_framing) {
  const std::string app{app_page_policy(false)};
  const std::string embed{app_page_policy(true)};
  for (const std::string& p : {app, embed}) {
    EXPECT_NE(p.find("default-src 'none'"), std::string::npos);
    EXPECT_NE(p.find("script-src 'self';"), std::string::npos);
    EXPECT_NE(p.find("connect-src 'self';"), std::string::npos);
    EXPECT_EQ(p.find("unsafe"), std::string::npos);
    EXPECT_EQ(p.find("http"), std::string::npos);
  }
  EXPECT_NE(app.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_NE(embed.find("frame-ancestors *"), std::string::npos);
}

} // namespace
} // namespace hlsgate::http
